"""The pages in-process: a session holding a real signed access token, put into the app's own encrypted
session cookie (what the login callback stores), and the CSRF token read from a rendered form. For tests
of one form post; the browser tests (tests/web) walk the real login."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar.testing import AsyncTestClient

from tests.conftest import make_app

CSRF_FIELD = re.compile(r'name="_csrf_token" value="([^"]+)"')


@asynccontextmanager
async def logged_in(database_url: str, issuer, token: str) -> AsyncIterator[AsyncTestClient]:
    app = make_app(database_url, issuer)
    session = next(m for m in app.middleware if "backend" in getattr(m, "kwargs", {}))
    async with AsyncTestClient(app=app, session_config=session.kwargs["backend"].config) as client:
        await client.set_session_data({"access_token": token, "lang": "sv"})
        yield client


async def csrf_token(client: AsyncTestClient, page: str) -> str:
    """The token a form on `page` carries (the GET also sets the CSRF cookie it is checked against)."""
    response = await client.get(page)
    assert response.status_code == 200, (page, response.status_code)
    return CSRF_FIELD.search(response.text).group(1)
