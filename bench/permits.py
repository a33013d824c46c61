"""Cost of an endpoint-permit tick (simulation/limits.py) with several holders on one lease table.

Two measurements against a fresh SQLite file (or ``--url``, any SQLAlchemy URL the permits accept):
1. one process, ``--holders`` holders ticking in turn (the transaction alone, no lock waits);
2. ``--holders`` processes, each holding a lease with calls waiting and ticking every 250 ms for
   ``--seconds`` (the transaction plus waiting for the other processes' locks), and the grants they end with.

    .venv/bin/python bench/permits.py [--holders 8] [--seconds 5] [--url sqlite:///tmp/p.sqlite]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

KEY = "bench-endpoint"
LIMIT = 64


def _summary(label: str, durations_ms: list[float]) -> str:
    ordered = sorted(durations_ms)
    p95 = ordered[int(0.95 * (len(ordered) - 1))]
    return (f"{label:<34} {len(ordered):>6} {statistics.mean(ordered):>8.2f} {statistics.median(ordered):>8.2f} "
            f"{p95:>8.2f} {ordered[-1]:>8.2f}")


def _one_process(url: str, holders: int, rounds: int) -> list[float]:
    from simulation.limits import SqlLedger

    ledger = SqlLedger(url)
    names = [f"h{i}" for i in range(holders)]
    for name in names:
        ledger.join(KEY, name, LIMIT)
    durations = []
    for r in range(rounds):
        for i, name in enumerate(names):
            started = time.perf_counter()
            ledger.tick(KEY, name, LIMIT, 16 + (r + i) % 16, 0)
            durations.append((time.perf_counter() - started) * 1000)
    for name in names:
        ledger.leave(KEY, name)
    ledger.dispose()
    return durations


def _holder_process(url: str, seconds: float, start: Any, results: Any) -> None:
    from simulation.limits import AdjustableLimiter, SqlPermits

    source = SqlPermits(url)
    durations: list[float] = []
    tick = source.ledger.tick

    def timed_tick(*args: Any) -> Any:
        started = time.perf_counter()
        try:
            return tick(*args)
        finally:
            durations.append((time.perf_counter() - started) * 1000)

    source.ledger.tick = timed_tick  # type: ignore[method-assign]

    async def main() -> None:
        limiter = AdjustableLimiter()
        async with source.lease(KEY, LIMIT, limiter):
            await asyncio.to_thread(start.wait, 60)

            async def call() -> None:
                async with limiter:
                    await asyncio.sleep(0.05)

            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline:  # always more calls than permits: every holder wants more
                await asyncio.gather(*(call() for _ in range(LIMIT)))

    asyncio.run(main())
    results.put(durations)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--holders", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=200, help="ticks per holder in the one-process measurement")
    parser.add_argument("--url", default=None, help="a lease-table URL (default: a fresh SQLite file)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.url or f"sqlite:///{tmp}/permits.sqlite"
        one = _one_process(url, args.holders, args.rounds)
        context = multiprocessing.get_context("spawn")
        start, results = context.Barrier(args.holders + 1), context.Queue()
        processes = [context.Process(target=_holder_process, args=(url, args.seconds, start, results))
                     for _ in range(args.holders)]
        for process in processes:
            process.start()
        start.wait(120)  # every holder has its lease; all start calling now
        time.sleep(args.seconds / 2)
        from simulation.limits import SqlLedger

        ledger = SqlLedger(url)
        rows = ledger.holders(KEY)
        ledger.dispose()
        outcomes = [results.get(timeout=args.seconds + 120) for _ in processes]
        for process in processes:
            process.join()
    from simulation.limits import masked_url

    print(f"lease table: {masked_url(url) if args.url else 'a fresh SQLite file'}; {args.holders} holders; "
          f"limit {LIMIT}; tick every 250 ms")
    print(f"{'tick duration (ms)':<34} {'ticks':>6} {'mean':>8} {'median':>8} {'p95':>8} {'max':>8}")
    print(_summary("one process, holders in turn", one))
    print(_summary(f"{args.holders} processes, calls waiting", [d for durations in outcomes for d in durations]))
    grants = sorted(r["granted"] for r in rows)
    print(f"\ngrants half-way (limit {LIMIT}, {args.holders} busy holders): {grants}, sum {sum(grants)}")
    per_s = args.holders / 0.25
    print(f"{per_s:.0f} tick transactions/s on the table in all")


if __name__ == "__main__":
    main()
