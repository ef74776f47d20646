"""Who is calling: verification of OIDC/OAuth 2.0 JWT access tokens.

No web framework and no database here; the API layer calls
`TokenVerifier.verify` and maps `InvalidToken` to 401.
"""

from .issuers import TrustedIssuer, load_trusted_issuers
from .keys import JwksCache
from .principal import (
    HUMAN_ROLES,
    NATIONAL_FOLLOWUP,
    ORG_ADMIN,
    ROLES,
    SHELTER_STAFF,
    SOCIAL_WORKER,
    Principal,
)
from .tokens import InvalidToken, TokenVerifier

__all__ = [
    "HUMAN_ROLES",
    "NATIONAL_FOLLOWUP",
    "ORG_ADMIN",
    "ROLES",
    "SHELTER_STAFF",
    "SOCIAL_WORKER",
    "InvalidToken",
    "JwksCache",
    "Principal",
    "TokenVerifier",
    "TrustedIssuer",
    "load_trusted_issuers",
]
