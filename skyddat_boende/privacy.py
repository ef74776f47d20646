"""Keeping identifying data out: nothing shaped like a personal identity number is accepted anywhere.

The same pattern guards the database (looks_like_personal_number() in sql/0002_domain.sql).
"""

from __future__ import annotations

import re

from skyddat_boende.problems import Problem

# 6 or 8 digits, an optional - + or space, 4 digits; not part of a longer run of digits.
# Covers personnummer and samordningsnummer (day + 60) in every common spelling.
PERSONAL_NUMBER = re.compile(r"(?<![0-9])(?:[0-9]{2})?[0-9]{6}[-+ ]?[0-9]{4}(?![0-9])")


class PersonalNumberRejected(Problem):
    status, slug, title = 422, "personal-identity-number", "Personal identity numbers are not accepted"


def looks_like_personal_number(text: str) -> bool:
    return PERSONAL_NUMBER.search(text) is not None


def reject_personal_numbers(raw_body: bytes) -> None:
    """Refuse the whole request if any part of it looks like a personnummer. The error never says
    where or what, so the number is not echoed, logged or stored anywhere."""
    if looks_like_personal_number(raw_body.decode("utf-8", errors="replace")):
        raise PersonalNumberRejected(
            "Something in the request looks like a personal identity number. Use the municipality's "
            "pseudonymous case reference; the service never stores identities."
        )
