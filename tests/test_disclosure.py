"""Small-count protection (docs/statistics.md): no endpoint, under any combination of filters, publishes
a count from 1 to 4, and two published figures never pin a withheld count by their difference."""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
from collections import Counter

import pytest
from litestar.testing import AsyncTestClient

from skyddat_boende import database
from skyddat_boende.statistics.demand import PERIODS, next_start, period_start
from skyddat_boende.statistics.disclosure import suppress
from tests.conftest import make_app

NOT_COUNTS = {"median_hours_to_accept", "p90_hours_to_accept", "days_covered", "suppressed_below", "rounded_to",
              "county_code"}
"""Published numbers that count no one: hours, days with a snapshot, the method's own parameters, codes."""
SUMMED = ("requests_filed", "placed_within_1_day", "placed_within_7_days", "placed_later", "never_placed")
PUBLISHED_SUMS = {**{m: (m,) for m in SUMMED}, "unmet": ("placed_later", "never_placed")}
FIRST, LAST = dt.date(2025, 1, 1), dt.date(2026, 2, 28)
COUNTIES, NEEDS = ("01", "12", "14"), ("all", "older_boys", "wheelchair")


def bucket(published: int | None) -> range:
    """Every true count that publishes as this figure (by inverting suppress)."""
    return range(0, 1) if published == 0 else range(
        *(lambda ns: (ns[0], ns[-1] + 1))([n for n in range(0, 400) if suppress(n) == published]))


def differences(p: int | None, q: int | None) -> set[int]:
    return {a - b for a in bucket(p) for b in bucket(q) if a >= b}


def test_no_pair_of_published_counts_pins_a_withheld_difference():
    """Exhaustively: whenever the difference of two nested counts is 1 to 4, the two published figures
    leave at least two of those values possible (the attacker learns no exact small count)."""
    for whole in range(0, 300):
        for part in range(0, whole + 1):
            if 1 <= whole - part <= 4:
                possible = differences(suppress(whole), suppress(part)) & {1, 2, 3, 4}
                assert whole - part in possible and len(possible) >= 2, (whole, part, possible)


async def _synthetic(url: str) -> Counter:
    """Small, sparse daily figures (mostly 0 to 6) for a few counties and needs; returns the truth."""
    rng, truth = random.Random(27), Counter()
    conn = await database.connect(url)
    try:
        day, rows, days = FIRST, [], []
        while day <= LAST:
            days.append((day, True, True))
            for county in COUNTIES:
                for need in NEEDS:
                    for measure in (*SUMMED, "declined:full", "excluded:security_level", "places_free", "waiting"):
                        value = rng.choice((0, 0, 0, 1, 1, 2, 3, 4, 6))
                        if value:
                            rows.append((day, county, need, measure, value))
                            truth[(day, county, need, measure)] = value
            day += dt.timedelta(days=1)
        await conn.copy_records_to_table("demand_snapshot_day", records=days)
        await conn.copy_records_to_table("demand_snapshot", records=rows)
    finally:
        await conn.close()
    return truth


def _numbers(value, key=None):
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _numbers(v, k)
    elif isinstance(value, list):
        for v in value:
            yield from _numbers(v, key)
    elif isinstance(value, int) and not isinstance(value, bool) and key not in NOT_COUNTS:
        yield key, value


def _csv_numbers(text: str):
    for row in csv.DictReader(io.StringIO(text)):
        for key, value in row.items():
            if key not in NOT_COUNTS and value.isdigit():
                yield key, int(value)


def _ranges(period: str) -> list[tuple[str, str]]:
    if period == "day":
        return [("2025-03-01", "2025-04-15")]
    return [(FIRST.isoformat(), LAST.isoformat()), ("2025-06-15", "2025-08-03")]


@pytest.fixture
async def app_and_truth(create_migrated_database, issuer):
    url = await create_migrated_database()
    truth = await _synthetic(url)
    async with AsyncTestClient(app=make_app(url, issuer, run_jobs=False)) as client:
        yield client, truth


async def test_no_filter_combination_publishes_a_count_from_1_to_4(app_and_truth, tokens):
    client, truth = app_and_truth
    assert sum(1 for v in truth.values() if 1 <= v <= 4) > 1000  # the data is full of small counts
    national = tokens.headers("national_followup", "nat-socialstyrelsen")
    seen = 0
    for period in PERIODS:
        for start, end in _ranges(period):
            for county in (None, "12", "25"):
                for need in (None, "older_boys", "pets"):
                    params = {"period": period, "start": start, "end": end} | (
                        {"county": county} if county else {}) | ({"need": need} if need else {})
                    if period == "day" and not (county or need):
                        continue  # too many cells for one request (400); the filtered ones cover the days
                    body = await client.get("/api/statistics/demand", params=params, headers=national)
                    text = await client.get("/api/statistics/demand.csv", params=params, headers=national)
                    assert body.status_code == 200 and text.status_code == 200, (params, body.text)
                    for key, n in [*_numbers(body.json()), *_csv_numbers(text.text)]:
                        assert not 1 <= n <= 4, (params, key, n)
                        seen += n > 0
    for path in ("/open-data/free-places", "/open-data/free-places.csv"):
        answer = await client.get(path)
        found = _numbers(answer.json()) if path.endswith("places") else _csv_numbers(answer.text)
        assert all(not 1 <= n <= 4 for _, n in found)
    assert seen > 1000


async def _cells(client, headers, period: str, start: dt.date, end: dt.date) -> dict:
    answer = await client.get("/api/statistics/demand", headers=headers, params={
        "period": period, "start": start.isoformat(), "end": end.isoformat(), "county": "12", "need": "older_boys"})
    return {dt.date.fromisoformat(c["period_start"]): c for c in answer.json()["cells"]}


async def test_differencing_two_periods_reveals_no_withheld_count(app_and_truth, tokens):
    """Every day inside a week or month, every month inside the year and every week inside a month:
    published figures are consistent with the truth, and their difference never pins a count of 1 to 4."""
    client, truth = app_and_truth
    national = tokens.headers("national_followup", "nat-socialstyrelsen")
    year = await _cells(client, national, "year", dt.date(2025, 1, 1), dt.date(2025, 12, 31))
    months = await _cells(client, national, "month", dt.date(2025, 1, 1), dt.date(2025, 12, 31))
    weeks = await _cells(client, national, "week", dt.date(2025, 3, 3), dt.date(2025, 4, 27))
    days = await _cells(client, national, "day", dt.date(2025, 3, 1), dt.date(2025, 4, 30))
    nested = [(year, months, "year", "month"), (months, weeks, "month", "week"), (months, days, "month", "day"),
              (weeks, days, "week", "day")]
    series = {m: {d: v for (d, c, n, mm), v in truth.items() if (c, n, mm) == ("12", "older_boys", m)}
              for m in SUMMED}
    tested = pinned = 0
    for wholes, parts, whole_period, part_period in nested:
        for start, part in parts.items():
            outer = period_start(start, whole_period)
            whole = wholes.get(outer)
            if whole is None or next_start(start, part_period) > next_start(outer, whole_period):
                continue  # a week that straddles two months is not inside either
            for measure, parts_of in PUBLISHED_SUMS.items():
                true_whole = sum(v for m in parts_of for d, v in series[m].items()
                                 if period_start(d, whole_period) == outer)
                true_part = sum(v for m in parts_of for d, v in series[m].items() if period_start(d, part_period) == start)
                assert suppress(true_whole) == whole[measure] and suppress(true_part) == part[measure]
                if 1 <= true_whole - true_part <= 4:
                    tested += 1
                    possible = differences(whole[measure], part[measure]) & {1, 2, 3, 4}
                    pinned += len(possible) < 2
    assert tested > 20 and pinned == 0
