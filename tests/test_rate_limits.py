"""Rate limits in PostgreSQL: per client address before the token is read, per client after it, holding
across processes (two real servers on one database), 429 problem+json with Retry-After."""

from __future__ import annotations

import itertools
import json
import uuid

import httpx
import pytest

from skyddat_boende import database, rate_limits
from tests.helpers import running_servers

PER_ADDRESS, PER_CLIENT = 6, 4
_addresses = itertools.count(1)


def an_address() -> dict[str, str]:
    """A client address of its own for one test: both servers trust the loopback proxy's X-Forwarded-For."""
    return {"X-Forwarded-For": f"198.51.100.{next(_addresses)}"}


@pytest.fixture(scope="module")
async def limited(create_migrated_database, issuer):
    """Two service processes on one database, with small limits."""
    url = await create_migrated_database()
    env = {"DATABASE_URL": url, "SB_ENV": "development", "SB_BATCH_INTERVAL_MINUTES": "0",
           "SB_TRUSTED_ISSUERS": json.dumps([issuer.trusted_issuer_config()]),
           "SB_RATE_LIMIT_PER_ADDRESS_PER_MINUTE": str(PER_ADDRESS), "SB_RATE_LIMIT_PER_MINUTE": str(PER_CLIENT)}
    with running_servers(env, 2) as (first, second):
        yield url, (first, second)


async def _calls(bases, n: int, headers: dict[str, str]) -> list[httpx.Response]:
    """`n` calls to /api/me, alternating between the two processes."""
    async with httpx.AsyncClient(timeout=10) as http:
        return [await http.get(f"{bases[i % 2]}/api/me", headers=headers) for i in range(n)]


def _assert_limited(response: httpx.Response) -> None:
    assert response.status_code == 429
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["status"] == 429
    assert 1 <= int(response.headers["retry-after"]) <= rate_limits.WINDOW_SECONDS


async def test_unauthenticated_and_invalid_token_calls_are_limited_per_address_across_processes(limited):
    # Input: calls without a token and with a forged one from one address, alternating between two
    # processes; before, each got 401 without end (and each process counted alone).
    _, bases = limited
    address = an_address()
    responses = await _calls(bases, PER_ADDRESS // 2, address)
    responses += await _calls(bases, PER_ADDRESS - PER_ADDRESS // 2 + 2, address | {"Authorization": "Bearer x.y.z"})
    assert [r.status_code for r in responses] == [401] * PER_ADDRESS + [429, 429]
    for refused in responses[PER_ADDRESS:]:
        _assert_limited(refused)
    assert {r.url.port for r in responses[PER_ADDRESS:]} == {httpx.URL(b).port for b in bases}
    # another address is not affected
    assert [r.status_code for r in await _calls(bases, 2, an_address())] == [401, 401]


async def test_address_limit_comes_before_the_token(limited, tokens):
    # Input: a valid token from an address that is over its limit: refused without looking at the token.
    _, bases = limited
    address = an_address()
    await _calls(bases, PER_ADDRESS, address)
    valid = tokens.headers("social_worker", "kommun-1280", subject=f"rate-{uuid.uuid4().hex}")
    _assert_limited((await _calls(bases, 1, address | valid))[0])


async def test_a_client_is_limited_across_processes(limited, tokens):
    # Input: one person's calls alternating between two processes; with the limit in each process's
    # memory they got twice the limit.
    _, bases = limited
    person = tokens.headers("social_worker", "kommun-1280", subject=f"rate-{uuid.uuid4().hex}")
    responses = await _calls(bases, PER_CLIENT + 2, person | an_address())
    assert [r.status_code for r in responses] == [200] * PER_CLIENT + [429, 429]
    _assert_limited(responses[-1])
    # from another address, the same person is still over the limit; another person is not
    _assert_limited((await _calls(bases, 1, person | an_address()))[0])
    other = tokens.headers("social_worker", "kommun-1280", subject=f"rate-{uuid.uuid4().hex}")
    assert (await _calls(bases, 1, other | an_address()))[0].status_code == 200


async def test_housekeeping_forgets_ended_windows_only(limited):
    url, _ = limited
    conn = await database.connect(url)
    try:
        old, current = b"o" * 32, b"c" * 32
        await conn.execute("insert into rate_limit_window (bucket, window_start, calls) values "
                           "($1, now() - interval '61 seconds', 5), ($2, now(), 5)", old, current)
        await rate_limits.forget_ended_windows(conn)
        kept = {row["bucket"] for row in await conn.fetch("select bucket from rate_limit_window")}
    finally:
        await conn.close()
    assert current in kept and old not in kept


def test_ipv6_callers_count_by_their_64_and_ipv4_as_themselves():
    assert rate_limits.address_key("2001:db8:1:2::1") == rate_limits.address_key("2001:db8:1:2:ffff::9")
    assert rate_limits.address_key("2001:db8:1:3::1") != rate_limits.address_key("2001:db8:1:2::1")
    assert rate_limits.address_key("::ffff:192.0.2.7") == rate_limits.address_key("192.0.2.7") == "192.0.2.7"
