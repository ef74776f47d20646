"""A demo-like national picture run through simulated days, with the clock injected (never slept), and the
figures the snapshots should hold computed independently, in Python, from the raw tables."""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from zoneinfo import ZoneInfo

import asyncpg

ZONE = ZoneInfo("Europe/Stockholm")
PLACING = ("1280", "0180", "1480", "0380", "2480", "0580")
REASONS = ("full", "cannot_meet_needs", "security_concern", "too_close_to_threat", "other")
RULES = ("security_level", "target_group", "need_wheelchair", "boys_age_limit", "excluded_area")


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=ZONE)


async def file_request(conn: asyncpg.Connection, rng: random.Random, when: dt.datetime, n: int) -> None:
    request_id = await conn.fetchval(
        """insert into placement_request (municipality_id, case_reference, urgency, security_level_needed,
               protected_data_level, needs, honour_related, lgbtq, languages, latest_start_date, created_at,
               updated_at, waiting_since)
           values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11, $11) returning id""",
        "kommun-" + rng.choice(PLACING), f"SIM-{n:05d}", rng.choice(("acute", "days", "planned")),
        rng.randint(1, 4), rng.choice(("none", "none", "sekretessmarkering", "skyddad_folkbokforing")),
        rng.sample(("wheelchair", "pets", "substance_use", "mental_illness"), rng.choice((0, 0, 1, 2))),
        rng.random() < 0.15, rng.random() < 0.1, rng.choice(([], ["sv"], ["ar"], ["sv", "fa"])),
        when.date() + dt.timedelta(days=30), when)
    for position in range(1, rng.choice((1, 1, 2)) + 1):
        await conn.execute("insert into request_adult values ($1, $2, $3, $4)", request_id, position,
                           rng.choice(("female", "female", "female", "male", "other")), rng.randint(18, 60))
    for position in range(1, rng.choice((0, 0, 1, 2, 3)) + 1):
        await conn.execute("insert into request_child values ($1, $2, $3, $4, $5)", request_id, position,
                           rng.choice(("female", "male")), rng.randint(0, 17), f"SIM-{n:05d}-B{position}")


async def _set_request(conn, request_id, status: str, when: dt.datetime) -> None:
    await conn.execute("update placement_request set status = $2, version = version + 1, updated_at = $3 "
                       "where id = $1", request_id, status, when)


async def offer_and_answer(conn: asyncpg.Connection, rng: random.Random, day: dt.date) -> None:
    """Each waiting request is offered a free unit with some chance; the offer is accepted or declined."""
    waiting = [r["id"] for r in await conn.fetch(
        "select id from placement_request where status = 'waiting' and created_at < $1 order by created_at, id",
        at(day, 10))]
    free = [r["id"] for r in await conn.fetch(
        """select u.id from unit u where u.status = 'available' and u.beds_taken = 0 and u.beds >= 4
             and not exists (select 1 from offer o where o.unit_id = u.id and o.status = 'open')
           order by u.id""")]
    rng.shuffle(free)
    for request_id in rng.sample(waiting, min(len(waiting), 3)):
        if not free:
            break
        made = at(day, 10, rng.randint(0, 59))
        offer_id = await conn.fetchval(
            "insert into offer (request_id, unit_id, beds, created_at, expires_at) values ($1, $2, 1, $3, $4) "
            "returning id", request_id, free.pop(), made, made + dt.timedelta(hours=4))
        await _set_request(conn, request_id, "offered", made)
        answered = made + dt.timedelta(minutes=rng.randint(5, 200))
        if rng.random() < 0.6:
            unit_id = await conn.fetchval("update offer set status = 'accepted', answered_at = $2 where id = $1 "
                                          "returning unit_id", offer_id, answered)
            await conn.execute("insert into placement (request_id, offer_id, unit_id, beds, accepted_at) "
                               "values ($1, $2, $3, 1, $4)", request_id, offer_id, unit_id, answered)
            await _set_request(conn, request_id, "placed", answered)
        else:
            await conn.execute("update offer set status = 'declined', answered_at = $2, decline_reason = $3 "
                               "where id = $1", offer_id, answered, rng.choice(REASONS))
            await _set_request(conn, request_id, "waiting", answered)


async def move_out_and_withdraw(conn: asyncpg.Connection, rng: random.Random, day: dt.date) -> None:
    for row in await conn.fetch("select id, request_id from placement where status = 'accepted' order by id"):
        if rng.random() < 0.1:
            when = at(day, 15, rng.randint(0, 59))
            await conn.execute("update placement set status = 'moved_out', moved_out_at = $2, version = version + 1 "
                               "where id = $1", row["id"], when)
            await _set_request(conn, row["request_id"], "closed", when)
    for row in await conn.fetch("select id from placement_request where status = 'waiting' order by id"):
        if rng.random() < 0.04:
            await _set_request(conn, row["id"], "withdrawn", at(day, 16, rng.randint(0, 59)))
        elif rng.random() < 0.3:  # the engine's latest "why no match" for the request
            await conn.execute("update placement_request set last_match = $2 where id = $1", row["id"],
                               {"fitting_units": 0, "excluded": {r: rng.randint(0, 40) for r in RULES}})


async def confirm_some_places(conn: asyncpg.Connection, rng: random.Random, day: dt.date) -> None:
    units = [r["id"] for r in await conn.fetch("select id from unit order by id")]
    await conn.execute("update unit set availability_confirmed_at = $2 where id = any($1::uuid[])",
                       [u for u in units if rng.random() < 0.2], at(day, 9, rng.randint(0, 59)))


# ------------------------------------------------------------------ independent figures from raw tables

def local_day(moment: dt.datetime) -> dt.date:
    return moment.astimezone(ZONE).date()


async def request_cells(conn: asyncpg.Connection) -> dict:
    """request id -> (county, [needs]), by the definitions in docs/statistics.md."""
    adults, children = {}, {}
    for a in await conn.fetch("select request_id, gender, age from request_adult"):
        adults.setdefault(a["request_id"], []).append(a)
    for c in await conn.fetch("select request_id, gender, age from request_child"):
        children.setdefault(c["request_id"], []).append(c)
    out = {}
    for r in await conn.fetch("select r.*, o.municipality_code from placement_request r "
                              "join organisation o on o.id = r.municipality_id"):
        kids, grown = children.get(r["id"], []), adults.get(r["id"], [])
        needs = {"all"} | {n for n in r["needs"]}
        needs |= {"children"} if kids else set()
        needs |= {"older_boys"} if any(c["gender"] != "female" and c["age"] >= 13 for c in kids) else set()
        needs |= {"language"} if set(r["languages"]) - {"sv"} else set()
        needs |= {"men"} if any(a["gender"] == "male" for a in grown) else set()
        needs |= {"lgbtq"} if r["lgbtq"] or any(a["gender"] == "other" for a in grown) else set()
        needs |= {"young_adults"} if any(18 <= a["age"] <= 25 for a in grown) else set()
        needs |= {"honour_related"} if r["honour_related"] else set()
        needs |= {"high_security"} if r["security_level_needed"] >= 3 else set()
        needs |= {"protected_identity"} if r["protected_data_level"] != "none" else set()
        out[r["id"]] = (r["municipality_code"][:2], sorted(needs), r)
    return out


async def expected_events(conn: asyncpg.Connection, days: set[dt.date]) -> Counter:
    cells, figures = await request_cells(conn), Counter()

    def add(day, request_id, measure):
        if day in days:
            county, needs, _ = cells[request_id]
            for need in needs:
                figures[(day, county, need, measure)] += 1

    for request_id, (_, _, r) in cells.items():
        add(local_day(r["created_at"]), request_id, "requests_filed")
        if r["status"] == "withdrawn":
            add(local_day(r["updated_at"]), request_id, "never_placed")
    for p in await conn.fetch("select request_id, accepted_at from placement"):
        waited = p["accepted_at"] - cells[p["request_id"]][2]["created_at"]
        outcome = ("placed_within_1_day" if waited <= dt.timedelta(days=1) else
                   "placed_within_7_days" if waited <= dt.timedelta(days=7) else "placed_later")
        add(local_day(p["accepted_at"]), p["request_id"], outcome)
        hours = min(int(waited.total_seconds() // 3600), 2160)
        add(local_day(p["accepted_at"]), p["request_id"], f"hours_to_accept:{hours}")
    for o in await conn.fetch("select request_id, answered_at, decline_reason from offer where status = 'declined'"):
        add(local_day(o["answered_at"]), o["request_id"], "declined:" + o["decline_reason"])
    return figures


async def expected_state(conn: asyncpg.Connection, now: dt.datetime, stale_hours: int) -> Counter:
    figures = Counter()
    day = local_day(now)
    for u in await conn.fetch("""select u.availability_confirmed_at, s.* from unit u
                                   join shelter s on s.id = u.shelter_id
                                  where u.status = 'available' and u.beds_taken < u.beds"""):
        groups, features = set(u["target_groups"]), set(u["features"])
        needs = {"all"} | (features & {"wheelchair", "pets", "substance_use", "mental_illness",
                                       "intellectual_disability"})
        needs |= {"children"} if "families" in groups else set()
        takes_older_boys = u["max_age_boys"] is None or u["max_age_boys"] >= 13
        needs |= {"older_boys"} if "families" in groups and takes_older_boys else set()
        needs |= {"language"} if set(u["staff_languages"]) - {"sv"} else set()
        needs |= {"men"} if "men" in groups else set()
        needs |= {"lgbtq"} if "lgbtq" in groups or "lgbtq_competence" in features else set()
        needs |= {"young_adults"} if "young_adults" in groups else set()
        needs |= {"honour_related"} if "honour_competence" in features else set()
        needs |= {"high_security"} if u["security_level"] >= 3 else set()
        needs |= {"protected_identity"} if u["protected_data_capability"] != "none" else set()
        stale = u["availability_confirmed_at"] < now - dt.timedelta(hours=stale_hours)
        for need in needs:
            figures[(day, u["municipality_code"][:2], need, "places_free")] += 1
            figures[(day, u["municipality_code"][:2], need, "places_stale")] += stale
    for county, needs, r in (await request_cells(conn)).values():
        if r["status"] != "waiting":
            continue
        excluded = r["last_match"]["excluded"] if r["last_match"] else {}
        for need in needs:
            figures[(day, county, need, "waiting")] += 1
            for rule, n in excluded.items():
                figures[(day, county, need, "excluded:" + rule)] += n
    return +figures
