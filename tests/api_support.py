"""Tokens for API tests: real signed tokens from the session's development issuer."""

from __future__ import annotations

import itertools

_subjects = itertools.count(1)


class Tokens:
    def __init__(self, issuer) -> None:
        self.issuer = issuer

    def headers(self, role: str | None, org: str, *scopes: str, subject: str | None = None,
                **extra: str) -> dict[str, str]:
        """Authorization header for a person with `role` at `org` (a new person each call unless `subject`
        is given), or (role None) a partner system with `scopes`."""
        client_id = f"client-{org}"
        subject = client_id if role is None else subject or f"user-{next(_subjects)}"
        token = self.issuer.mint_token(
            subject=subject, org=org, roles=() if role is None else (role,), scopes=scopes, client_id=client_id,
        )
        return {"Authorization": f"Bearer {token}", **extra}

    def social_worker(self, municipality: str = "1280", **extra: str) -> dict[str, str]:
        return self.headers("social_worker", f"kommun-{municipality}", **extra)

    def staff(self, operator: str, **extra: str) -> dict[str, str]:
        return self.headers("shelter_staff", operator, **extra)
