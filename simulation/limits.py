"""Endpoint concurrency that holds across runs, processes and machines.

A simulation enforces an endpoint's limit with an ``AdjustableLimiter`` per endpoint. A ``PermitSource``
decides the limiter's capacity: ``LocalPermits`` fixes it at the configured limit (one process alone, the
default); ``SqlPermits`` leases permits from a table every process can reach, so several Dagster runs, CLI
workers or machines calling the same endpoint never put more than its limit in flight together.

The lease algorithm (one serialized transaction per tick and holder, every ~250 ms): write own demand and
heartbeat, reap holders silent for the stale window, compute max-min fair quotas of the limit over the live
holders' demands, and set own grant. A holder takes free permits at once; it gives back down to its quota when
others wait; it never records a grant below what it may have in flight, so the sum of recorded grants (at most
the limit) bounds the calls really in flight.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
import uuid
from collections import deque
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from core.errors import BackfireError

if TYPE_CHECKING:
    from types import TracebackType

    import sqlalchemy

logger = logging.getLogger(__name__)

PERMITS_URL_ENV = "BACKFIRE_PERMITS_URL"
TICK_S = 0.25
"""How often a holder renews its lease and recomputes its grant."""
STALE_S = 10.0
"""A holder whose heartbeat is older than this is dead: its row is deleted and its permits are free again."""


class AdjustableLimiter:
    """``async with limiter:`` admits a call while fewer than ``capacity`` are in flight; ``capacity`` may change
    at any time. Lowering it cancels nothing: new calls wait until ``in_flight`` drops below it. Waiters are
    admitted first come, first served."""

    def __init__(self, capacity: int = 0) -> None:
        self._capacity = capacity
        self.in_flight = 0
        self._waiters: deque[asyncio.Future[None]] = deque()

    @property
    def capacity(self) -> int:
        return self._capacity

    @capacity.setter
    def capacity(self, value: int) -> None:
        self._capacity = max(0, value)
        self._wake()

    @property
    def waiting(self) -> int:
        return len(self._waiters)

    @property
    def demand(self) -> int:
        """Calls that want a permit now: in flight plus waiting."""
        return self.in_flight + len(self._waiters)

    async def acquire(self) -> None:
        if not self._waiters and self.in_flight < self._capacity:
            self.in_flight += 1
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await waiter  # ``_wake`` counts the call in flight before it resolves the future
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.release()  # admitted, then cancelled before it ran: hand the permit on
            else:
                self._waiters.remove(waiter)
            raise

    def release(self) -> None:
        self.in_flight -= 1
        self._wake()

    def _wake(self) -> None:
        while self._waiters and self.in_flight < self._capacity:
            waiter = self._waiters.popleft()
            if not waiter.done():
                self.in_flight += 1
                waiter.set_result(None)

    async def __aenter__(self) -> None:
        await self.acquire()

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        self.release()


class PermitSource(Protocol):
    """Drives a limiter's capacity for one endpoint while a simulation runs."""

    def lease(self, key: str, limit: int, limiter: AdjustableLimiter) -> Any:
        """An async context manager: inside it, ``limiter.capacity`` is this process's share of ``limit`` for
        endpoint ``key`` (a stable hash of the backend's connection key and the requested model id)."""
        ...


class LocalPermits:
    """One process owns the endpoint: capacity is the configured limit (today's behaviour, the default)."""

    @asynccontextmanager
    async def lease(self, key: str, limit: int, limiter: AdjustableLimiter) -> AsyncIterator[None]:
        limiter.capacity = limit
        yield


def permit_source_from_env() -> PermitSource:
    """``BACKFIRE_PERMITS_URL`` set (any SQLAlchemy URL): leases in that database; unset: ``LocalPermits``."""
    url = os.environ.get(PERMITS_URL_ENV, "").strip()
    return SqlPermits(url) if url else LocalPermits()


def masked_url(url: str) -> str:
    """The URL as it may be logged: its password replaced by ``***``."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # unparsable: show nothing of it
        return "<unparsable URL>"


# ---------------------------------------------------------------------------------------------------------------
# The allocation rule (pure, so a test can drive it without a database)

@dataclass(frozen=True)
class Holder:
    """A live row of the lease table, as one tick sees it."""

    holder: str
    granted: int
    demand: int
    since: float
    """When the holder last went from no permit to some, or back (orders who is served first)."""


@dataclass(frozen=True)
class Grant:
    capacity: int
    """What the limiter admits up to from now on."""
    recorded: int
    """What the row records: at least everything the holder may have in flight."""
    since: float


def fair_quotas(demands: Mapping[str, int], order: Sequence[str], limit: int) -> dict[str, int]:
    """Max-min fair integer shares of ``limit`` over ``demands`` (no holder gets more than it asks for); units
    that cannot be split evenly go to holders early in ``order``."""
    quotas = {h: 0 for h in demands}
    active = [h for h in order if demands.get(h, 0) > 0]
    remaining = limit
    while remaining > 0 and active:
        share = remaining // len(active)
        if share == 0:
            for h in active[:remaining]:
                quotas[h] += 1
            break
        still = []
        for h in active:
            take = min(share, demands[h] - quotas[h])
            quotas[h] += take
            remaining -= take
            if quotas[h] < demands[h]:
                still.append(h)
        active = still
    return quotas


def plan_grant(me: Holder, others: Sequence[Holder], limit: int, floor: int, now: float) -> Grant:
    """One holder's new grant from the live rows (the caller serializes ticks, so ``others`` is current).

    Args:
        me: this holder with its current demand and last recorded grant (0 when its row was reaped).
        others: the other live holders.
        limit: the smallest limit any live holder asked for.
        floor: what this holder may have in flight until its limiter sees the new capacity.
        now: the database's clock.
    """
    available = max(0, limit - sum(o.granted for o in others))
    if any(o.demand > o.granted for o in others):
        # Starved holders first (longest starved first), then the most recently served: the longest-served
        # holder gives back first, so with fewer permits than holders the permits rotate.
        everyone = [me, *others]
        order = sorted(everyone, key=lambda h: (h.granted > 0, h.since if h.granted == 0 else -h.since, h.holder))
        quota = fair_quotas({h.holder: h.demand for h in everyone}, [h.holder for h in order], limit)[me.holder]
        want = min(me.demand, quota)
    else:
        want = max(me.demand, me.granted)  # nobody else waits: keep what we hold, take what we need
    capacity = min(want, available)
    recorded = min(max(capacity, floor), available)  # a reaped holder never records past the limit
    since = me.since if (recorded > 0) == (me.granted > 0) else now
    return Grant(capacity, recorded, since)


# ---------------------------------------------------------------------------------------------------------------
# The lease table

class SqlLedger:
    """The lease table through SQLAlchemy: one row per (endpoint, holder); each call is one transaction.

    Ticks of one endpoint are serialized: SQLite takes the write lock first (``BEGIN IMMEDIATE``), other
    databases lock the endpoint's row (``SELECT ... FOR UPDATE``). Times come from the database's clock, so
    machines need not agree on theirs.
    """

    def __init__(self, url: str, stale_s: float = STALE_S) -> None:
        self.url = url
        self.stale_s = stale_s
        self._engine: sqlalchemy.Engine | None = None

    def __repr__(self) -> str:
        return f"SqlLedger({masked_url(self.url)})"

    def _error(self, problem: str, fix: str) -> BackfireError:
        return BackfireError(f"{problem} ({masked_url(self.url)})", field=PERMITS_URL_ENV, fix=fix)

    @property
    def engine(self) -> sqlalchemy.Engine:
        if self._engine is None:
            self._engine = self._connect()
        return self._engine

    def _connect(self) -> sqlalchemy.Engine:
        import sqlalchemy as sa
        from sqlalchemy import event, exc

        try:
            url = sa.engine.make_url(self.url)
        except exc.ArgumentError as error:
            raise self._error(f"not a database URL: {error}", "set an SQLAlchemy URL such as "
                              "sqlite:////shared/permits.sqlite or postgresql://user:pass@host/db") from None
        if url.get_backend_name() not in ("sqlite", "postgresql"):
            raise self._error(f"permits need SQLite or PostgreSQL, not {url.get_backend_name()}",
                              "use a sqlite:/// or postgresql:// URL")
        is_sqlite = url.get_backend_name() == "sqlite"
        try:
            engine = (sa.create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}) if is_sqlite
                      else sa.create_engine(url, pool_pre_ping=True))
        except exc.NoSuchModuleError as error:
            raise self._error(f"no driver for this URL: {error}", "install the driver (for PostgreSQL: "
                              "pip install psycopg2-binary)") from None
        if is_sqlite:
            # pysqlite's own transaction handling would start a deferred transaction; take the write lock at once.
            @event.listens_for(engine, "connect")
            def _no_implicit_begin(dbapi_connection: Any, _record: Any) -> None:
                dbapi_connection.isolation_level = None
                dbapi_connection.execute("pragma journal_mode=wal")
                dbapi_connection.execute("pragma synchronous=normal")  # lease rows need no durability

            @event.listens_for(engine, "begin")
            def _begin_immediate(connection: Any) -> None:
                connection.exec_driver_sql("BEGIN IMMEDIATE")
        try:
            _metadata().create_all(engine)
        except exc.DBAPIError:  # another process created the tables at the same moment
            _metadata().create_all(engine)
        return engine

    def _now(self, conn: sqlalchemy.Connection) -> float:
        from sqlalchemy import text

        if conn.dialect.name == "sqlite":
            return float(conn.execute(text("select (julianday('now') - 2440587.5) * 86400.0")).scalar_one())
        return float(conn.execute(text("select extract(epoch from clock_timestamp())")).scalar_one())

    def join(self, key: str, holder: str, limit: int) -> None:
        """Register ``holder`` with no permit yet."""
        from sqlalchemy import exc, insert

        endpoints, leases = _tables()
        try:
            try:
                with self.engine.begin() as conn:
                    conn.execute(insert(endpoints).values(endpoint=key))
            except exc.IntegrityError:
                pass  # the endpoint's row exists
            with self.engine.begin() as conn:
                now = self._now(conn)
                conn.execute(insert(leases).values(endpoint=key, holder=holder, permit_limit=limit, granted=0,
                                                   demand=0, heartbeat=now, since=now))
        except exc.OperationalError as error:
            raise self._error(f"cannot open the permit table: {error.orig}",
                              "check that the database is reachable and writable") from None

    def tick(self, key: str, holder: str, limit: int, demand: int, floor: int) -> tuple[Grant, bool]:
        """Renew ``holder``'s lease and set its grant; returns the grant and whether the row had been reaped
        (the holder was silent past the stale window and starts over at grant 0)."""
        from sqlalchemy import delete, insert, select, update

        endpoints, leases = _tables()
        with self.engine.begin() as conn:
            conn.execute(select(endpoints.c.endpoint).where(endpoints.c.endpoint == key).with_for_update())
            now = self._now(conn)
            conn.execute(delete(leases).where(leases.c.endpoint == key, leases.c.heartbeat < now - self.stale_s))
            rows = {r.holder: r for r in conn.execute(select(leases).where(leases.c.endpoint == key))}
            mine = rows.pop(holder, None)
            others = [Holder(r.holder, r.granted, r.demand, r.since) for r in rows.values()]
            me = Holder(holder, mine.granted if mine else 0, demand, mine.since if mine else now)
            smallest = min([limit, *(r.permit_limit for r in rows.values())])
            grant = plan_grant(me, others, smallest, floor if mine else 0, now)
            values = dict(permit_limit=limit, granted=grant.recorded, demand=demand, heartbeat=now, since=grant.since)
            if mine is not None:
                conn.execute(update(leases).where(leases.c.endpoint == key, leases.c.holder == holder).values(**values))
            else:
                conn.execute(insert(leases).values(endpoint=key, holder=holder, **values))
        return grant, mine is None

    def leave(self, key: str, holder: str) -> None:
        from sqlalchemy import delete

        _, leases = _tables()
        with self.engine.begin() as conn:
            conn.execute(delete(leases).where(leases.c.endpoint == key, leases.c.holder == holder))

    def holders(self, key: str) -> list[dict[str, Any]]:
        """Every row of the endpoint, live or not (for tests and operators)."""
        from sqlalchemy import select

        _, leases = _tables()
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(select(leases).where(leases.c.endpoint == key))]

    def dispose(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None


_METADATA: Any = None


def _metadata() -> sqlalchemy.MetaData:
    global _METADATA
    if _METADATA is None:
        import sqlalchemy as sa

        metadata = sa.MetaData()
        sa.Table("backfire_permit_endpoints", metadata, sa.Column("endpoint", sa.String(64), primary_key=True))
        sa.Table("backfire_permit_leases", metadata,
                 sa.Column("endpoint", sa.String(64), primary_key=True),
                 sa.Column("holder", sa.String(128), primary_key=True),
                 sa.Column("permit_limit", sa.Integer, nullable=False),
                 sa.Column("granted", sa.Integer, nullable=False),
                 sa.Column("demand", sa.Integer, nullable=False),
                 sa.Column("heartbeat", sa.Float, nullable=False),
                 sa.Column("since", sa.Float, nullable=False))
        _METADATA = metadata
    return _METADATA


def _tables() -> tuple[sqlalchemy.Table, sqlalchemy.Table]:
    metadata = _metadata()
    return metadata.tables["backfire_permit_endpoints"], metadata.tables["backfire_permit_leases"]


def holder_id() -> str:
    """Names this process's lease rows: host and pid say who holds permits; the suffix keeps leases apart."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class SqlPermits:
    """Permits leased from a SQL table shared by every process that calls the endpoint (``SqlLedger``)."""

    def __init__(self, url: str, *, tick_s: float = TICK_S, stale_s: float = STALE_S) -> None:
        self.ledger = SqlLedger(url, stale_s)
        self.tick_s = tick_s
        self.stale_s = stale_s
        self._open_leases = 0

    def __repr__(self) -> str:
        return f"SqlPermits({masked_url(self.ledger.url)})"

    @asynccontextmanager
    async def lease(self, key: str, limit: int, limiter: AdjustableLimiter) -> AsyncIterator[None]:
        holder = holder_id()
        limiter.capacity = 0
        self._open_leases += 1
        ticker: asyncio.Task[None] | None = None
        joined = False
        try:
            await asyncio.to_thread(self.ledger.join, key, holder, limit)
            joined = True
            logger.info("endpoint %s: leasing up to %d permits as %s from %s", key, limit, holder,
                        masked_url(self.ledger.url))
            # The first tick presumes the holder wants everything, so a lone holder starts at full speed.
            last_ok = await self._tick(key, holder, limit, limiter, presumed=limit)
            ticker = asyncio.create_task(self._run(key, holder, limit, limiter, last_ok))
            yield
        finally:
            if ticker is not None:
                ticker.cancel()
                await asyncio.gather(ticker, return_exceptions=True)
            try:
                if joined:
                    await asyncio.to_thread(self.ledger.leave, key, holder)
            except Exception as error:  # the row goes stale and is reaped by the next holder
                logger.warning("endpoint %s: could not release the lease (%s); it expires in %.0f s", key,
                               type(error).__name__, self.stale_s)
            self._release_engine()

    def _release_engine(self) -> None:
        """The last lease closes the database connections (a source outlives no simulation's event loop)."""
        self._open_leases -= 1
        if not self._open_leases:
            self.ledger.dispose()

    async def _tick(self, key: str, holder: str, limit: int, limiter: AdjustableLimiter, presumed: int = 0) -> float:
        # Until the new capacity is set, the limiter admits up to the old one: the recorded grant covers both.
        floor = max(limiter.in_flight, limiter.capacity)
        grant, reaped = await asyncio.to_thread(self.ledger.tick, key, holder, limit,
                                                max(presumed, limiter.demand), floor)
        if reaped and not presumed:
            logger.warning("endpoint %s: this lease expired (silent for over %.0f s); starting over with no permit",
                           key, self.stale_s)
        limiter.capacity = grant.capacity
        return time.monotonic()

    async def _run(self, key: str, holder: str, limit: int, limiter: AdjustableLimiter, last_ok: float) -> None:
        while True:
            await asyncio.sleep(self.tick_s)
            try:
                last_ok = await self._tick(key, holder, limit, limiter)
            except Exception as error:
                logger.warning("endpoint %s: permit tick failed (%s: %s)", key, type(error).__name__, error)
                if time.monotonic() - last_ok > self.stale_s / 2:
                    limiter.capacity = 0  # our row may be reaped soon: stop calling rather than overshoot
