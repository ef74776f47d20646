"""Every controller served under /api (all behind the `authorize` guard)."""

from skyddat_boende.callers.controller import CallerController
from skyddat_boende.capacity.controller import AvailabilityController, ShelterController, UnitController
from skyddat_boende.feeds.controller import FeedController
from skyddat_boende.geography.controller import GeographyController
from skyddat_boende.housing.controller import (
    ApartmentAvailabilityController, ApartmentController, OnwardOfferController, OnwardRequestController,
)
from skyddat_boende.matchmaking.controller import BatchController
from skyddat_boende.offers.controller import OfferController
from skyddat_boende.placement_requests.controller import PlacementRequestController
from skyddat_boende.placements.controller import PlacementController
from skyddat_boende.statistics.controller import StatisticsController
from skyddat_boende.webhooks.controller import WebhookController

API_CONTROLLERS = [
    CallerController, GeographyController, ShelterController, UnitController, AvailabilityController,
    WebhookController, PlacementRequestController, OfferController, PlacementController,
    StatisticsController, BatchController, FeedController, ApartmentController,
    ApartmentAvailabilityController, OnwardRequestController, OnwardOfferController,
]
