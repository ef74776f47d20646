"""Keeping identifying data out: nothing shaped like a personal identity number is accepted anywhere.

Separators people type inside a number (- + space . _ / :) are removed first, then any run of 10 or
12 digits whose date part is a plausible date (month 01-12; day 01-31, or 61-91 for a
samordningsnummer) is refused. The same rule guards the database (looks_like_personal_number() in
sql/0008_personal_number_guard.sql).
"""

from __future__ import annotations

import re
from typing import Any

import msgspec

from skyddat_boende.problems import Problem

SEPARATORS = re.compile(r"[-+ ._/:]")
PERSONAL_NUMBER = re.compile(
    r"(?<![0-9])(?:[0-9]{2})?[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01]|6[1-9]|[78][0-9]|9[01])[0-9]{4}(?![0-9])"
)


class PersonalNumberRejected(Problem):
    status, slug, title = 422, "personal-identity-number", "Personal identity numbers are not accepted"


def looks_like_personal_number(text: str) -> bool:
    return PERSONAL_NUMBER.search(SEPARATORS.sub("", text)) is not None


def _strings(value: Any):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
    elif value is not None:
        yield str(value)


def reject_personal_numbers(raw_body: bytes) -> None:
    """Refuse the whole request if any value in it (after JSON decoding, so escapes do not hide
    digits) looks like a personnummer. The error never says where or what, so the number is not
    echoed, logged or stored anywhere."""
    try:
        texts = list(_strings(msgspec.json.decode(raw_body)))
    except msgspec.DecodeError:
        texts = [raw_body.decode("utf-8", errors="replace")]
    if any(looks_like_personal_number(text) for text in texts):
        raise PersonalNumberRejected(
            "Something in the request looks like a personal identity number. Use the municipality's "
            "pseudonymous case reference; the service never stores identities."
        )
