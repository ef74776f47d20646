"""The development issuer's login endpoints: persona page, authorization code with PKCE S256, one-time codes."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from skyddat_boende.identity.dev_issuer import DevIssuer, Persona

REDIRECT = "http://127.0.0.1:9/auth/callback"


@pytest.fixture(scope="module")
def login_issuer(tmp_path_factory: pytest.TempPathFactory):
    persona = Persona("malmo", "Socialsekreterare, Malmö", "social_worker", "kommun-1280")
    with DevIssuer(tmp_path_factory.mktemp("login") / "keys", personas=[persona]) as issuer:
        yield issuer


def _authorize(issuer: DevIssuer, verifier: str) -> str:
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    params = {"response_type": "code", "client_id": "web", "redirect_uri": REDIRECT, "state": "s1",
              "code_challenge": challenge, "code_challenge_method": "S256", "nonce": "n1"}
    page = httpx.get(issuer.url + "/authorize", params=params)
    assert page.status_code == 200 and "Socialsekreterare, Malmö" in page.text
    assert "form-action 'self' http://127.0.0.1:9" in page.headers["content-security-policy"]
    chosen = httpx.post(issuer.url + "/authorize", data=params | {"persona": "malmo"})
    assert chosen.status_code == 303
    location = urlsplit(chosen.headers["location"])
    query = parse_qs(location.query)
    assert location.path == "/auth/callback" and query["state"] == ["s1"]
    return query["code"][0]


def test_code_exchange_with_pkce_once(login_issuer: DevIssuer) -> None:
    verifier = secrets.token_urlsafe(48)
    code = _authorize(login_issuer, verifier)
    form = {"grant_type": "authorization_code", "code": code, "client_id": "web", "redirect_uri": REDIRECT,
            "code_verifier": verifier}
    tokens = httpx.post(login_issuer.url + "/token", data=form)
    assert tokens.status_code == 200, tokens.text
    body = tokens.json()
    assert body["token_type"] == "Bearer" and body["access_token"].count(".") == 2 and "id_token" in body
    again = httpx.post(login_issuer.url + "/token", data=form)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"


def test_wrong_verifier_or_redirect_is_refused(login_issuer: DevIssuer) -> None:
    code = _authorize(login_issuer, secrets.token_urlsafe(48))
    wrong = {"grant_type": "authorization_code", "code": code, "client_id": "web", "redirect_uri": REDIRECT,
             "code_verifier": secrets.token_urlsafe(48)}
    assert httpx.post(login_issuer.url + "/token", data=wrong).json()["error"] == "invalid_grant"


@pytest.mark.parametrize("change", [
    {"code_challenge_method": "plain"}, {"redirect_uri": "https://evil.example/cb"}, {"response_type": "token"},
])
def test_authorization_request_without_pkce_or_off_machine_redirect_is_refused(login_issuer, change) -> None:
    params = {"response_type": "code", "client_id": "web", "redirect_uri": REDIRECT, "state": "s",
              "code_challenge": "x" * 43, "code_challenge_method": "S256"} | change
    page = httpx.get(login_issuer.url + "/authorize", params=params)
    assert page.status_code == 400 and not re.search("Socialsekreterare", page.text)
