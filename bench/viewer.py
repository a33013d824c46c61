"""Transcript-viewer speed at the paper's scale: the runs list and a run page, served from a synthetic Study 2
warehouse (16 languages x 5 aligned shares x 15 replicates = 1,200 runs, 360,000 utterances).

Builds that warehouse once through the whole pipeline (as bench/recovery.py does, a few minutes) and caches it
under the temp folder, then serves it with ``backfire view``'s app on 127.0.0.1 and prints the server-side
time of each page (first request, then the median of repeats).

    .venv/bin/python bench/viewer.py [--db PATH] [--repeats 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
STUDY = Path(__file__).resolve().parents[1] / "studies" / "study2.yaml"
CACHE = Path(tempfile.gettempdir()) / "backfire-viewer-bench" / "warehouse.duckdb"


def build_warehouse(db: Path) -> None:
    """Study 2 through the whole pipeline into ``db`` (written beside it, then moved: a killed build leaves no
    half warehouse to be reused)."""
    from orchestration.launch import materialize_study, raise_for_failure

    db.parent.mkdir(parents=True, exist_ok=True)
    partial = db.with_name("partial-" + db.name)
    for stale in (partial, partial.with_name(partial.name + ".wal")):
        stale.unlink(missing_ok=True)
    started = time.perf_counter()
    raise_for_failure(materialize_study(STUDY, db=partial, log_level="CRITICAL", ephemeral=True))
    partial.rename(db)
    for kind in ("logs", "reports"):
        folder = partial.with_name(f"{partial.stem}.{kind}")
        if folder.is_dir() and not db.with_name(f"{db.stem}.{kind}").exists():
            folder.rename(db.with_name(f"{db.stem}.{kind}"))
    print(f"built {db} in {time.perf_counter() - started:.0f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, default=CACHE, help=f"warehouse to build or reuse (default {CACHE})")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--build-only", action="store_true", help="build (or find) the warehouse and stop")
    args = parser.parse_args()
    if not args.db.is_file():
        build_warehouse(args.db)
    if args.build_only:
        return
    time_pages(args.db, args.repeats)


def time_pages(db: Path, repeats: int) -> None:
    """Serve ``db`` on 127.0.0.1 and time each page: server side (the handler, from request to response, as a
    middleware sees it) and as the client sees it over the socket."""
    import asyncio

    asyncio.run(_time_pages(db, repeats))


async def _time_pages(db: Path, repeats: int) -> None:
    from aiohttp import ClientSession, web

    from viewer.app import create_app
    from warehouse.connection import connect

    with connect(db, read_only=True) as con:
        n_runs, n_utterances = con.execute("select (select count(*) from raw.runs), "
                                           "(select count(*) from raw.utterances)").fetchone()  # type: ignore[misc]
        run_ids = [r[0] for r in con.execute("select run_id from raw.runs order by hash(run_id) limit ?",
                                             [repeats + 1]).fetchall()]
    server_ms: list[float] = []

    @web.middleware
    async def timed(request: web.Request, handler):  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        response = await handler(request)
        server_ms.append((time.perf_counter() - started) * 1000)
        return response

    app = create_app(db)
    app.middlewares.append(timed)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    import threading

    started = time.perf_counter()
    for thread in threading.enumerate():
        if thread.name == "warm-lexicons":  # the app builds every language's lexicon matcher as it starts
            thread.join()
    print(f"start-up: lexicon matchers of every language built in the background in "
          f"{time.perf_counter() - started:.1f} s (timed after it)")
    print(f"warehouse {db}: {n_runs} runs, {n_utterances} utterances")
    print(f"{'page':<34} {'server first':>13} {'server median':>14} {'client median':>14}")
    async with ClientSession() as session:
        async def measure(label: str, paths: list[str]) -> None:
            server, client = [], []
            for path in paths:
                started = time.perf_counter()
                async with session.get(f"http://127.0.0.1:{port}{path}") as response:
                    assert response.status == 200, (path, response.status)
                    await response.read()
                client.append((time.perf_counter() - started) * 1000)
                server.append(server_ms[-1])
            print(f"{label:<34} {server[0]:>10.0f} ms {statistics.median(server[1:]):>11.0f} ms "
                  f"{statistics.median(client[1:]):>11.0f} ms")

        await measure("runs list (all runs, by CPI)", ["/"] * (repeats + 1))
        await measure("runs list (ja, by DI ascending)", ["/?language=ja&sort=di&order=asc"] * (repeats + 1))
        await measure("run page (same run again)", [f"/run/{run_ids[0]}"] * (repeats + 1))
        await measure("run page (a different run each)", [f"/run/{run_id}" for run_id in run_ids])
        await measure("dissociation examples (all)", ["/dissociation"] * 3)
    await runner.cleanup()


if __name__ == "__main__":
    main()
