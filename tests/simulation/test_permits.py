"""Endpoint permits (simulation/limits.py): the adjustable limiter, the fair-share rule, and the SQL lease table
under a simulated crowd of holders, against one SQLite file."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from core.errors import BackfireError
from simulation.limits import (
    AdjustableLimiter,
    LocalPermits,
    SqlLedger,
    SqlPermits,
    fair_quotas,
    masked_url,
    permit_source_from_env,
)

KEY = "endpoint-under-test"


def test_limiter_capacity_changes_while_calls_are_in_flight() -> None:
    async def scenario() -> None:
        limiter = AdjustableLimiter(2)
        release = asyncio.Event()

        async def call() -> None:
            async with limiter:
                await release.wait()

        tasks = [asyncio.create_task(call()) for _ in range(5)]
        await asyncio.sleep(0)
        assert (limiter.in_flight, limiter.waiting, limiter.demand) == (2, 3, 5)
        limiter.capacity = 4  # raising admits waiters at once
        assert (limiter.in_flight, limiter.waiting) == (4, 1)
        limiter.capacity = 1  # lowering cancels nothing
        assert limiter.in_flight == 4 and not any(t.done() for t in tasks)
        tasks[-1].cancel()  # a cancelled waiter leaves the queue
        await asyncio.sleep(0)
        assert limiter.waiting == 0
        release.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        assert limiter.in_flight == 0
        limiter.capacity = 0
        blocked = asyncio.create_task(call())
        await asyncio.sleep(0.01)
        assert limiter.waiting == 1 and not blocked.done()  # a new call waits until in_flight < capacity
        limiter.capacity = 1
        await blocked

    asyncio.run(scenario())


def test_fair_quotas_are_max_min_fair_and_hand_out_the_remainder_in_order() -> None:
    assert fair_quotas({"a": 8, "b": 8}, ["a", "b"], 8) == {"a": 4, "b": 4}
    assert fair_quotas({"a": 2, "b": 8, "c": 8}, ["a", "b", "c"], 8) == {"a": 2, "b": 3, "c": 3}
    assert fair_quotas({"a": 5, "b": 5, "c": 5}, ["c", "a", "b"], 2) == {"a": 1, "b": 0, "c": 1}
    assert fair_quotas({"a": 0, "b": 3}, ["a", "b"], 8) == {"a": 0, "b": 3}


def test_local_permits_fix_capacity_at_the_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    async def scenario() -> int:
        limiter = AdjustableLimiter()
        async with LocalPermits().lease(KEY, 7, limiter):
            return limiter.capacity

    assert asyncio.run(scenario()) == 7
    monkeypatch.delenv("BACKFIRE_PERMITS_URL", raising=False)
    assert isinstance(permit_source_from_env(), LocalPermits)
    monkeypatch.setenv("BACKFIRE_PERMITS_URL", "postgresql://bf:s3cret@db.example:5432/dagster")
    source = permit_source_from_env()
    assert isinstance(source, SqlPermits) and "s3cret" not in repr(source) and "***" in repr(source)
    assert masked_url("postgresql://bf:s3cret@db/dagster") == "postgresql://bf:***@db/dagster"


def test_a_bad_permits_url_names_the_variable_and_hides_the_password(tmp_path: Path) -> None:
    with pytest.raises(BackfireError, match="BACKFIRE_PERMITS_URL: permits need SQLite or PostgreSQL") as bad:
        SqlLedger("mysql://bf:s3cret@db/x").join(KEY, "h", 8)
    assert "s3cret" not in str(bad.value)
    with pytest.raises(BackfireError, match="cannot open the permit table"):
        SqlLedger(f"sqlite:///{tmp_path}/no/such/dir/p.sqlite").join(KEY, "h", 8)


@dataclass
class SimHolder:
    """A process as the lease table sees it: calls in flight, calls waiting, the capacity its limiter has."""

    name: str
    in_flight: int = 0
    waiting: int = 0
    capacity: int = 0

    def admit(self) -> None:
        n = max(0, min(self.waiting, self.capacity - self.in_flight))
        self.in_flight += n
        self.waiting -= n


def _tick(ledger: SqlLedger, key: str, h: SimHolder, limit: int) -> None:
    grant, _ = ledger.tick(key, h.name, limit, h.in_flight + h.waiting, max(h.in_flight, h.capacity))
    h.capacity = grant.capacity
    h.admit()


@pytest.mark.parametrize("seed, limit", [(1, 8), (2, 3), (3, 1)])
def test_leases_never_exceed_the_limit_and_starve_no_holder(permits_url: str, endpoint: str, seed: int,
                                                           limit: int) -> None:
    """A seeded random crowd (hypothesis is not installed): holders join, tick with random demand, finish calls
    and leave; after every step the grants recorded and the calls in flight each sum to at most the limit.
    Then every holder wants calls at once, and each gets a permit within a bounded number of rounds."""
    rng = random.Random(seed)
    ledger = SqlLedger(permits_url)
    live: dict[str, SimHolder] = {}
    joined = 0
    for _ in range(600):
        roll = rng.random()
        if (roll < 0.05 and len(live) < 6) or not live:
            joined += 1
            h = live[f"h{joined}"] = SimHolder(f"h{joined}")
            ledger.join(endpoint, h.name, limit)
        elif roll < 0.08:
            h = rng.choice(list(live.values()))
            h.waiting = 0  # its simulation ends: queued calls are dropped, calls in flight finish
            h.capacity, h.in_flight = 0, 0
            ledger.leave(endpoint, h.name)
            del live[h.name]
        elif roll < 0.5:
            _tick(ledger, endpoint, rng.choice(list(live.values())), limit)
        elif roll < 0.75:
            h = rng.choice(list(live.values()))
            h.waiting += rng.randint(1, 2 * limit)
            h.admit()
        else:
            busy = [h for h in live.values() if h.in_flight]
            if busy:
                h = rng.choice(busy)
                h.in_flight -= 1
                h.admit()
        rows = ledger.holders(endpoint)
        assert sum(r["granted"] for r in rows) <= limit
        assert sum(h.in_flight for h in live.values()) <= limit
        for h in live.values():
            assert h.in_flight <= next(r["granted"] for r in rows if r["holder"] == h.name)
    for name in [f"n{i}" for i in range(6 - len(live))]:  # a full crowd for the starvation check
        live[name] = SimHolder(name)
        ledger.join(endpoint, name, limit)
    served = {name for name, h in live.items() if h.in_flight}
    for _ in range(100):
        for h in rng.sample(list(live.values()), len(live)):
            h.waiting = max(h.waiting, 3)  # everyone keeps wanting calls
            _tick(ledger, endpoint, h, limit)
            busy = [b for b in live.values() if b.in_flight]
            if busy:
                b = rng.choice(busy)
                b.in_flight -= 1
                b.admit()
            served |= {name for name, s in live.items() if s.in_flight}
            assert sum(s.in_flight for s in live.values()) <= limit
        if served == set(live):
            break
    assert served == set(live), f"starved: {set(live) - served}"
    ledger.dispose()


def test_a_killed_holder_stops_counting_after_the_stale_window(permits_url: str, endpoint: str) -> None:
    url = permits_url
    dead = SqlLedger(url, stale_s=0.5)
    dead.join(endpoint, "killed", 8)
    grant, _ = dead.tick(endpoint, "killed", 8, 8, 0)
    assert grant.recorded == 8  # then the process dies without leaving: its row stays behind
    ledger = SqlLedger(url, stale_s=0.5)
    ledger.join(endpoint, "alive", 8)
    assert ledger.tick(endpoint, "alive", 8, 8, 0)[0].capacity == 0  # the dead holder still counts
    time.sleep(0.6)
    assert ledger.tick(endpoint, "alive", 8, 8, 0)[0].capacity == 8  # reaped: its permits are free again
    assert [r["holder"] for r in ledger.holders(endpoint)] == ["alive"]
    grant, reaped = dead.tick(endpoint, "killed", 8, 8, 8)  # a holder that comes back starts over with grant 0
    assert reaped and grant.recorded == 0


def test_a_lone_holder_gets_every_permit_in_its_first_tick_and_releases_them(
        permits_url: str, endpoint: str, caplog: pytest.LogCaptureFixture) -> None:
    source = SqlPermits(permits_url, tick_s=0.05)

    async def scenario() -> tuple[int, int]:
        limiter = AdjustableLimiter()
        async with source.lease(endpoint, 8, limiter):
            first = limiter.capacity

            async def call() -> None:
                async with limiter:
                    await asyncio.sleep(0.02)

            await asyncio.gather(*(call() for _ in range(40)))
            await asyncio.sleep(0.12)  # a few ticks with no demand: a lone holder keeps its permits
            return first, limiter.capacity

    with caplog.at_level(logging.INFO, logger="simulation.limits"):
        assert asyncio.run(scenario()) == (8, 8)
    assert source.ledger.holders(endpoint) == []  # the row is gone on exit
    assert any("leasing up to 8 permits" in r.getMessage() for r in caplog.records)


def test_an_unreachable_permit_table_stops_the_simulation_before_any_call(tmp_path: Path) -> None:
    async def scenario() -> None:
        limiter = AdjustableLimiter()
        async with SqlPermits(f"sqlite:///{tmp_path}/missing/p.sqlite").lease("k", 8, limiter):
            raise AssertionError("no call may start without a lease")

    with pytest.raises(BackfireError, match="BACKFIRE_PERMITS_URL: cannot open the permit table"):
        asyncio.run(scenario())
