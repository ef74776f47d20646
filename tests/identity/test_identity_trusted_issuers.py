"""Loading and validating the trusted-issuer configuration."""

from __future__ import annotations

import json
from typing import Any

import pytest

from skyddat_boende.identity import TrustedIssuer, load_trusted_issuers

BASE = {"issuer": "https://idp.malmo.se", "audience": "skyddat-boende", "organisations": ["kommun-1280"]}


def load(*entries: dict[str, Any]) -> list[TrustedIssuer]:
    return load_trusted_issuers(json.dumps(list(entries)))


def test_minimal_entry_gets_safe_defaults() -> None:
    # Input: issuer, audience and one organisation only.
    (cfg,) = load(BASE)
    assert cfg.algorithms == ("RS256", "ES256")
    assert (cfg.org_claim, cfg.roles_claim, cfg.scope_claim) == ("org", "roles", "scope")
    assert cfg.accept_plain_jwt_typ is False
    assert cfg.development is False
    assert cfg.leeway_seconds == 60
    assert cfg.discovery_url == "https://idp.malmo.se/.well-known/openid-configuration"


def test_full_entry_and_bytes_input() -> None:
    # Input: every option set, given as bytes.
    raw = json.dumps([{
        **BASE,
        "organisations": ["*"],
        "algorithms": ["PS256", "ES384", "Ed25519"],
        "org_claim": "tenant_org",
        "roles_claim": ["realm_access", "roles"],
        "scope_claim": "scp",
        "role_map": {"Socialsekreterare": "social_worker"},
        "accept_plain_jwt_typ": True,
        "leeway_seconds": 30,
    }]).encode()
    (cfg,) = load_trusted_issuers(raw)
    assert cfg.any_organisation
    assert cfg.roles_claim == ("realm_access", "roles")


def test_development_issuer_on_localhost_may_use_http() -> None:
    # Input: http://127.0.0.1:8900 and http://localhost:8900 with development true.
    for url in ("http://127.0.0.1:8900", "http://localhost:8900"):
        (cfg,) = load({**BASE, "issuer": url, "development": True})
        assert cfg.development


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"algorithms": ["HS256"]}, "never allowed"),
        ({"algorithms": ["RS256", "none"]}, "never allowed"),
        ({"algorithms": ["NONE"]}, "never allowed"),
        ({"algorithms": ["RS1"]}, "unsupported algorithm"),
        ({"algorithms": []}, "must not be empty"),
        ({"issuer": "http://idp.malmo.se"}, "https"),
        ({"issuer": "http://idp.malmo.se", "development": True}, "https"),
        ({"issuer": "http://10.0.0.5:8900", "development": True}, "https"),
        ({"issuer": "ftp://idp.malmo.se"}, "https"),
        ({"issuer": "https://user:pw@idp.malmo.se"}, "credentials"),
        ({"issuer": "https://idp.malmo.se?x=1"}, "query"),
        ({"issuer": ""}, "non-empty"),
        ({"audience": ""}, "audience"),
        ({"organisations": []}, "must not be empty"),
        ({"organisations": ["*", "kommun-1280"]}, "only entry"),
        ({"organisations": ["Kommun 1280"]}, "not a valid organisation id"),
        ({"organisations": ["kommun-1280", "kommun-1280"]}, "duplicate"),
        ({"org_claim": None, "organisations": ["*"]}, "org_claim may be null"),
        ({"role_map": {"admin": "superuser"}}, "unknown role"),
        ({"leeway_seconds": 3600}, "leeway"),
        ({"roles_claim": []}, "roles_claim"),
        ({"unknown_option": True}, "unknown field"),
        ({"organisations": "kommun-1280"}, "Expected `array`"),
    ],
)
def test_bad_entries_rejected_with_clear_message(override: dict[str, Any], message: str) -> None:
    # Input: one bad setting at a time (the override), on an otherwise valid entry.
    with pytest.raises(ValueError, match=message):
        load({**BASE, **override})


def test_duplicate_issuer_rejected() -> None:
    # Input: the same issuer URL twice.
    with pytest.raises(ValueError, match="duplicate trusted issuer"):
        load(BASE, {**BASE, "organisations": ["kommun-0180"]})


@pytest.mark.parametrize("raw", ["", "{", "{}", "null", '[{"issuer": 1}]'])
def test_not_a_list_of_issuers(raw: str) -> None:
    # Input: empty, broken JSON, an object, null, wrong field type.
    with pytest.raises(ValueError):
        load_trusted_issuers(raw)


def test_direct_construction_is_validated_too() -> None:
    # Input: TrustedIssuer(...) built in code with algorithm HS256.
    with pytest.raises(ValueError, match="never allowed"):
        TrustedIssuer(issuer="https://a.se", audience="x", organisations=("kommun-1280",), algorithms=("HS256",))
