"""Every controller served under /api (all behind the `authorize` guard)."""

from skyddat_boende.callers.controller import CallerController
from skyddat_boende.capacity.controller import AvailabilityController, ShelterController, UnitController
from skyddat_boende.geography.controller import GeographyController
from skyddat_boende.webhooks.controller import WebhookController

API_CONTROLLERS = [
    CallerController, GeographyController, ShelterController, UnitController, AvailabilityController,
    WebhookController,
]
