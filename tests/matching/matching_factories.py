"""Small hand-made and generated instances for the matching tests."""

from __future__ import annotations

import datetime as dt
import random

from matching.types import Adult, Household, Municipality, Needs, Problem, Request, Unit

TODAY = dt.date(2025, 6, 2)

MALMO = Municipality("1280", "12", 55.6050, 13.0038)
LUND = Municipality("1281", "12", 55.7047, 13.1910)
STOCKHOLM = Municipality("0180", "01", 59.3293, 18.0686)
UPPSALA = Municipality("0380", "03", 59.8586, 17.6389)
GOTEBORG = Municipality("1480", "14", 57.7089, 11.9746)
UMEA = Municipality("2480", "24", 63.8258, 20.2630)
KIRUNA = Municipality("2584", "25", 67.8558, 20.2253)


def synthetic_municipalities(n: int = 40, seed: int = 0) -> list[Municipality]:
    """n municipalities in 8 counties, inside Sweden's bounding box."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        county = f"{i % 8 + 1:02d}"
        out.append(Municipality(f"{county}{i:02d}", county, rng.uniform(55.3, 68.5), rng.uniform(11.5, 23.5)))
    return out


def unit(id: str = "u1", **kw) -> Unit:
    base = dict(
        id=id,
        shelter_id=kw.pop("shelter_id", "s-" + id),
        municipality=STOCKHOLM,
        target_groups=frozenset({"women", "families"}),
        security_level=2,
        protected_data_capability="skyddad_folkbokforing",
        beds=2,
        available_from=TODAY,
        daily_rate=2500,
    )
    base.update(kw)
    return Unit(**base)


def woman(children=(), needs: Needs = Needs(), protected="none", age=35) -> Household:
    return Household((Adult("female", age),), tuple(children), needs, protected)


def request(id: str = "r1", household: Household | None = None, **kw) -> Request:
    base = dict(
        id=id,
        household=household or woman(),
        waiting_since=TODAY,
        urgency="days",
        security_level=1,
        threats=(MALMO,),
        latest_start=TODAY + dt.timedelta(days=5),
    )
    base.update(kw)
    return Request(**base)


def problem(requests, units, **kw) -> Problem:
    return Problem(today=TODAY, requests=tuple(requests), units=tuple(units), **kw)
