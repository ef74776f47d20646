"""The development issuer: loopback only, private key directory, real HTTP, CLI entry points."""

from __future__ import annotations

import json
import os
import stat
import threading
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from skyddat_boende.identity import TokenVerifier
from skyddat_boende.identity.dev_issuer import DevIssuer, issue_token, serve_dev_issuer
from tests.identity.support import AUDIENCE, MALMO, trusted


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "example.com", "::", ""])
def test_refuses_non_loopback_host(tmp_path: Path, host: str) -> None:
    # Input: bind addresses that would expose the issuer beyond this machine.
    with pytest.raises(ValueError, match="loopback"):
        DevIssuer(tmp_path / "keys", host)
    with pytest.raises(ValueError, match="loopback"):
        serve_dev_issuer(host, 0, tmp_path / "keys2")


def test_key_directory_is_private(tmp_path: Path) -> None:
    # Input: a fresh key directory path; the issuer creates it with a key file.
    key_dir = tmp_path / "a" / "keys"
    DevIssuer(key_dir)
    assert stat.S_IMODE(key_dir.stat().st_mode) == 0o700
    assert stat.S_IMODE((key_dir / "keys.json").stat().st_mode) == 0o600


def test_refuses_key_directory_open_to_others(tmp_path: Path) -> None:
    # Input: an existing key directory with mode 0755.
    key_dir = tmp_path / "keys"
    key_dir.mkdir()
    os.chmod(key_dir, 0o755)
    with pytest.raises(ValueError, match="chmod 700"):
        DevIssuer(key_dir)


async def test_serves_discovery_and_public_jwks(issuer: DevIssuer) -> None:
    # Input: GET discovery, JWKS and an unknown path over real HTTP.
    async with httpx.AsyncClient() as client:
        discovery = (await client.get(issuer.url + "/.well-known/openid-configuration")).json()
        jwks = (await client.get(discovery["jwks_uri"])).json()
        missing = await client.get(issuer.url + "/token")
    assert discovery["issuer"] == issuer.url
    assert issuer.url.startswith("http://127.0.0.1:")
    (key,) = jwks["keys"]
    assert key["kid"] == issuer.active_key.kid
    assert key["use"] == "sig" and key["alg"] == "ES256"
    assert "d" not in key
    assert missing.status_code == 404


async def test_rotation_keeps_old_key_published_until_removed(issuer: DevIssuer) -> None:
    # Input: rotate twice, then remove the first key.
    first = issuer.active_key.kid
    second = issuer.rotate_key()
    third = issuer.rotate_key("RSA")
    assert issuer.published_kids() == [first, second, third]
    assert issuer.active_key.kid == third
    issuer.remove_key(first)  # type: ignore[arg-type]
    assert issuer.published_kids() == [second, third]
    with pytest.raises(KeyError):
        issuer.remove_key("no-such-kid")


def test_keys_survive_restart(tmp_path: Path) -> None:
    # Input: two DevIssuer instances on the same key directory.
    kid = DevIssuer(tmp_path / "keys").active_key.kid
    assert DevIssuer(tmp_path / "keys").active_key.kid == kid


async def test_cli_entry_points_serve_and_issue(
    tmp_path: Path, make_verifier: Callable[..., TokenVerifier]
) -> None:
    # Input: serve_dev_issuer("127.0.0.1", 0, dir) in a thread, then issue_token(dir, None, ...)
    # for a social worker and for a machine client; both verified against the served JWKS.
    key_dir = tmp_path / "dev-keys"
    ready: list[DevIssuer] = []
    started = threading.Event()

    def on_ready(dev: DevIssuer) -> None:
        ready.append(dev)
        started.set()

    thread = threading.Thread(target=serve_dev_issuer, args=("127.0.0.1", 0, key_dir), kwargs={"on_ready": on_ready})
    thread.start()
    try:
        assert started.wait(10)
        dev = ready[0]
        assert json.loads((key_dir / "issuer.json").read_text())["issuer"] == dev.url
        verifier = make_verifier(trusted(dev.url, organisations=("*",)))

        person = await verifier.verify(issue_token(key_dir, None, AUDIENCE, "social_worker", MALMO))
        assert person.roles == frozenset({"social_worker"})
        assert person.organisation_id == MALMO
        assert not person.is_machine

        machine_token = issue_token(key_dir, dev.url, AUDIENCE, None, MALMO, scopes=["capacity:write"])
        machine = await verifier.verify(machine_token)
        assert machine.is_machine and machine.scopes == frozenset({"capacity:write"})
        assert dev.trusted_issuer_config(AUDIENCE)["development"] is True
    finally:
        ready[0].stop()
        thread.join(10)
    assert not thread.is_alive()


def test_issue_token_without_running_issuer(tmp_path: Path) -> None:
    # Input: issue_token with issuer_url None on a key directory no server ever used.
    with pytest.raises(ValueError, match="start the development issuer"):
        issue_token(tmp_path / "keys", None, AUDIENCE, "social_worker", MALMO)


@pytest.mark.parametrize(("role", "org"), [("admin", MALMO), ("social_worker", "Malmö"), ("social_worker", "")])
def test_issue_token_checks_role_and_org(tmp_path: Path, role: str, org: str) -> None:
    # Input: an unknown role, or an organisation id that is not one.
    with pytest.raises(ValueError):
        issue_token(tmp_path / "keys", "http://127.0.0.1:1", AUDIENCE, role, org)
