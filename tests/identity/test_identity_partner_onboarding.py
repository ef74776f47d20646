"""The partner's identity-provider test configuration in the guide (api_docs/trusted-issuer.example.json)
loads through the service's own loader (SB_TRUSTED_ISSUERS_FILE, as `make demo` reads it), and a token
from a development issuer acting as the partner's provider is accepted for the partner's organisation,
with the partner's role names mapped, and refused for any other organisation."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from skyddat_boende.cli import load_trusted_issuers_or_fail
from skyddat_boende.config import load_settings
from skyddat_boende.identity import InvalidToken
from skyddat_boende.identity.dev_issuer import DEFAULT_AUDIENCE, issue_token
from tests.helpers import REPO_ROOT

EXAMPLE = Path(REPO_ROOT) / "api_docs" / "trusted-issuer.example.json"


def _example_issuers() -> list:
    settings = load_settings({"SB_ENV": "development", "SB_TRUSTED_ISSUERS_FILE": str(EXAMPLE)})
    return load_trusted_issuers_or_fail(settings)


def test_the_example_configuration_loads_through_the_real_loader():
    [partner] = _example_issuers()
    assert partner.issuer == "http://127.0.0.1:8901" and partner.development
    assert partner.organisations == ("kommun-1280",) and partner.audience == DEFAULT_AUDIENCE
    assert partner.org_claim == "org" and partner.role_map["socialsekreterare"] == "social_worker"
    assert "8901" in (Path(REPO_ROOT) / "api_docs" / "guide.md").read_text(), "the guide starts that issuer"


async def test_a_token_from_the_partners_provider_acts_for_its_organisation_only(issuer, make_verifier):
    """`issuer` plays the partner's provider (on a free port instead of 8901)."""
    [partner] = _example_issuers()
    verifier = make_verifier(msgspec.structs.replace(partner, issuer=issuer.url))
    token = issue_token(issuer.store.key_dir, issuer.url, DEFAULT_AUDIENCE, "social_worker", "kommun-1280")
    principal = await verifier.verify(token)
    assert principal.organisation_id == "kommun-1280" and principal.roles == {"social_worker"}
    renamed = issuer.mint_token(subject="sw-1", org="kommun-1280", roles=("socialsekreterare",))
    assert (await verifier.verify(renamed)).roles == {"social_worker"}, "the partner's role name is mapped"
    # Input: the same provider claiming Stockholm's organisation, and a token for another audience.
    with pytest.raises(InvalidToken):
        await verifier.verify(issue_token(issuer.store.key_dir, issuer.url, DEFAULT_AUDIENCE, "social_worker",
                                          "kommun-0180"))
    with pytest.raises(InvalidToken):
        await verifier.verify(issuer.mint_token(subject="sw-1", org="kommun-1280", roles=("social_worker",),
                                                audience="another-service"))
