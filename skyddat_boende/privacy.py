"""Keeping identifying data out: nothing shaped like a personal identity number is accepted anywhere.

The text is read as a person would see it (`normalise`): every Unicode decimal digit as 0-9 (full-width,
Arabic-Indic, ...), every dash as '-', every space as ' ', and invisible characters (zero-width, soft
hyphen, other format characters) removed. Then any 10 or 12 digits in a row, with separators people
type inside a number (- + . _ / : and spaces) allowed between them, whose date part is a plausible
date (month 01-12; day 01-31, or 61-91 for a samordningsnummer) are refused, unless another digit is
joined on at either end, directly or by punctuation (then they are part of a longer number, such as a
UUID's groups); a space keeps two numbers apart. UUIDs in the text are not read. The same rule guards
the database (looks_like_personal_number() in sql/0014_personal_number_everywhere.sql); a test holds
the two equal.

Phone numbers share their digits with personal identity numbers (070-123 45 67 reads as a 2007 date),
so a phone field has its own rule, `phone_looks_like_personal_number` (docs/decisions.md).
`skyddat_boende.input_guard` applies both to every write.
"""

from __future__ import annotations

import functools
import re
import sys
import unicodedata

from skyddat_boende.problems import Problem

#: What people type inside a number: - + . _ / : and spaces, any number of them between two digits.
SEPARATORS = r"[-+._/:\s]*"
#: Punctuation joins digits into one number; a space between two numbers keeps them apart.
JOINED = r"[-+._/:]*"
_MONTH, _DAY = "(?:0[1-9]|1[0-2])", "(?:0[1-9]|[12][0-9]|3[01]|6[1-9]|[78][0-9]|9[01])"  # 61-91: samordningsnummer
#: (YY)YYMMDD NNNN with separators between any two digits, and no digit joined on after it.
PERSONAL_NUMBER = re.compile(
    ("(?:[0-9]S[0-9]S)?[0-9]S[0-9]S(?:0S[1-9]|1S[0-2])S(?:0S[1-9]|[12]S[0-9]|3S[01]|6S[1-9]|[78]S[0-9]|9S[01])"
     "S[0-9]S[0-9]S[0-9]S[0-9]").replace("S", SEPARATORS) + f"(?!{JOINED}[0-9])"
)
#: Where a number may start: a digit with no digit joined on before it (Python's look-behind is fixed-width).
NUMBER_START = re.compile(rf"(?:^|[^-+._/:0-9]){JOINED}(?=[0-9])")
#: UUIDs are machine identifiers, not numbers people type; their hex groups often hold ten digits in a row.
UUID = re.compile(r"(?<![0-9A-Fa-f])[0-9A-Fa-f]{8}(?:-[0-9A-Fa-f]{4}){3}-[0-9A-Fa-f]{12}(?![0-9A-Fa-f])")
#: The same written as identity numbers are: the digits together, at most one - + or space before the last four.
IDENTITY_LAYOUT = re.compile(rf"(?<![0-9])(?:[0-9]{{2}})?[0-9]{{2}}{_MONTH}{_DAY}[-+\s]?[0-9]{{4}}(?![0-9])")
MINUS_SIGN = "\u2212"


class PersonalNumberRejected(Problem):
    status, slug, title = 422, "personal-identity-number", "Personal identity numbers are not accepted"


@functools.cache
def _plain_table() -> dict[int, str | None]:
    """str.translate table: Unicode digits to 0-9, dashes to '-', spaces and controls to ' ', format
    characters (zero-width, soft hyphen, bidi marks) removed. Built once, on first use."""
    table: dict[int, str | None] = {ord(MINUS_SIGN): "-"}
    for code in (*range(1, 32), *range(127, sys.maxunicode + 1)):
        category = unicodedata.category(chr(code))
        if category == "Nd":
            table[code] = str(unicodedata.decimal(chr(code)))
        elif category == "Pd":
            table[code] = "-"
        elif category in ("Zs", "Zl", "Zp", "Cc"):
            table[code] = " "
        elif category == "Cf":
            table[code] = None
    return table


def normalise(text: str) -> str:
    """The text as the rule reads it (compatibility forms folded first: full-width, superscript, ...)."""
    if text.isascii() and text.isprintable():
        return text
    return unicodedata.normalize("NFKC", text).translate(_plain_table())


def looks_like_personal_number(text: str) -> bool:
    plain = UUID.sub(" ", normalise(text))
    return any(PERSONAL_NUMBER.match(plain, start.end()) for start in NUMBER_START.finditer(plain))


def phone_looks_like_personal_number(text: str) -> bool:
    """A phone field's rule: refused when it holds a personal identity number written as one (six or
    eight digits, then four), or when it does not start as a phone number does (+ or 0) and the general
    rule finds one. So 070-123 45 67 and +46 70 123 45 67 pass; ten digits in one run, or six digits, a
    dash and four, do not."""
    plain = normalise(text).strip()
    if IDENTITY_LAYOUT.search(plain):
        return True
    return not plain.startswith(("+", "0")) and looks_like_personal_number(plain)


def refuse() -> PersonalNumberRejected:
    """The error never says where or what, so the number is not echoed, logged or stored anywhere."""
    return PersonalNumberRejected(
        "Something in the request looks like a personal identity number. Use the municipality's "
        "pseudonymous case reference; the service never stores identities. A phone number may be "
        "written grouped (070-123 45 67) or with +46."
    )
