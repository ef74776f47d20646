"""A login that cannot complete answers with a Swedish page and a link to log in afresh, never a 500:
the callback reached with an unknown, used or expired code (the issuer refuses it with invalid_grant,
which authlib raises as OAuthError), or with no login under way."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from litestar.testing import AsyncTestClient

from tests.conftest import make_app


async def test_a_refused_code_gives_a_swedish_page_with_a_fresh_login_link(database_url, issuer):
    async with AsyncTestClient(app=make_app(database_url, issuer)) as client:
        started = await client.get("/login", params={"next": "/socialtjanst"}, follow_redirects=False)
        assert started.status_code == 303, started.text
        state = parse_qs(urlsplit(started.headers["location"]).query)["state"][0]
        # a code the issuer never gave (the same answer as for a used or expired one: invalid_grant)
        response = await client.get("/auth/callback", params={"code": "not-a-code-the-issuer-gave", "state": state})
        assert response.status_code == 400, response.text
        assert "Inloggningen misslyckades" in response.text
        assert 'href="/login?next=%2Fsocialtjanst"' in response.text
        again = await client.get("/login?next=%2Fsocialtjanst", follow_redirects=False)
        assert again.status_code == 303 and again.headers["location"].startswith(issuer.url)


async def test_a_callback_without_a_login_under_way_is_refused_the_same_way(database_url, issuer):
    async with AsyncTestClient(app=make_app(database_url, issuer)) as client:
        response = await client.get("/auth/callback", params={"code": "x", "state": "y"})
        assert response.status_code == 400
        assert "Inloggningen misslyckades" in response.text and 'href="/login?next=%2F"' in response.text
