"""The start page: what the service is and a way to log in; logged-in people go straight to their pages."""

from __future__ import annotations

from litestar import Controller, Request, get
from litestar.response import Redirect, Template

from skyddat_boende.web.auth import PUBLIC, home_of, session_principal
from skyddat_boende.web.common import page


class HomePage(Controller):
    opt = PUBLIC
    include_in_schema = False

    @get("/", name="home")
    async def home(self, request: Request) -> Template | Redirect:
        principal = await session_principal(request)
        if principal is not None and home_of(principal) != "/":
            return Redirect(path=home_of(principal), status_code=303)
        return page(request, "home.html")
