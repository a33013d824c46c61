"""``backfire view``'s web app: aiohttp routes over a read-only DuckDB connection.

The connection is opened for the first page and closed once no page has been asked for in ``IDLE_CLOSE_S``:
reopening a paper-scale warehouse costs ~100 ms a page, while holding it for good would keep a pipeline run
from ever taking its writer lock (DuckDB locks the file for every process while one reads). A run waits for
the lock (``BACKFIRE_LOCK_WAIT_S``), so it starts seconds after the browsing stops. When a writer holds the
lock, the page says so (503) instead of waiting.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.errors import BackfireError
from viewer import render
from viewer.pages import Links
from viewer.queries import RunFilters, RunNotFound

if TYPE_CHECKING:
    import duckdb
    from aiohttp import web

logger = logging.getLogger(__name__)
OPEN_WAIT_S = 2.0
"""How long a page waits for a writer's lock before it says it cannot read the warehouse."""
IDLE_CLOSE_S = 3.0
"""Seconds without a page after which the connection is closed, freeing the file for writers."""


class _Connection:
    """One read-only connection, shared by the pages while they keep coming, closed when they stop."""

    def __init__(self, db: Path) -> None:
        self.db = db
        self._con: duckdb.DuckDBPyConnection | None = None
        self._closer: asyncio.TimerHandle | None = None

    @contextlib.contextmanager
    def read_only(self) -> Iterator[duckdb.DuckDBPyConnection]:
        from warehouse.connection import connect

        if self._closer is not None:
            self._closer.cancel()
        if self._con is None:
            self._con = connect(self.db, read_only=True, wait_s=OPEN_WAIT_S)
        try:
            yield self._con
        finally:
            self._closer = asyncio.get_running_loop().call_later(IDLE_CLOSE_S, self.close)

    def close(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None


def create_app(db: Path) -> web.Application:
    """The app serving the warehouse at ``db`` (which the caller has checked exists)."""
    from core.extras import require

    aiohttp_web = require("aiohttp.web", extra="view", feature="backfire view")
    links = Links()
    source = str(db)
    connection = _Connection(db)

    def page(build: Callable[[duckdb.DuckDBPyConnection, web.Request], str]) -> Callable[..., Any]:
        async def handler(request: web.Request) -> web.Response:
            try:
                with connection.read_only() as con:
                    body = build(con, request)
            except RunNotFound as exc:
                return _error(aiohttp_web, 404, "Run not found", exc.problem, "Pick a run from the list.", links)
            except BackfireError as exc:
                status = 503 if "cannot open" in str(exc) else 400
                heading = "Cannot read the warehouse" if status == 503 else "Bad request"
                return _error(aiohttp_web, status, heading, str(exc), "", links)
            return aiohttp_web.Response(text=body, content_type="text/html", charset="utf-8")
        return handler

    app = aiohttp_web.Application(middlewares=[_not_found_middleware(aiohttp_web, links)])

    async def close_connection(_app: web.Application) -> None:
        connection.close()

    async def warm_lexicons(_app: web.Application) -> None:
        """Build each stored language's lexicon matcher in the background (~0.2 s each), so the first page of a
        language costs no more than the next."""
        import threading

        from viewer.highlight import warm

        try:
            with connection.read_only() as con:
                languages = [r[0] for r in con.execute("select distinct language from raw.runs").fetchall()]
        except BackfireError:  # a writer holds the file: pages will say so; nothing to warm
            return
        threading.Thread(target=warm, args=(languages,), daemon=True, name="warm-lexicons").start()

    app.on_startup.append(warm_lexicons)
    app.on_cleanup.append(close_connection)
    app.router.add_get("/", page(lambda con, r: render.runs_page(con, RunFilters.from_query(r.query), links,
                                                                  source)))
    app.router.add_get("/index.html", page(lambda con, r: render.runs_page(con, RunFilters.from_query(r.query),
                                                                            links, source)))
    app.router.add_get("/run/{run_id}", page(lambda con, r: render.run_html(con, r.match_info["run_id"], links,
                                                                             source)))
    app.router.add_get("/compare", page(lambda con, r: render.compare_page(con, r.query, links, source)))
    app.router.add_get("/dissociation", page(lambda con, r: render.dissociation_page(con, r.query, links, source)))
    app.router.add_static("/static/", render.STATIC)
    return app


def _error(web: Any, status: int, heading: str, message: str, fix: str, links: Links) -> web.Response:
    return web.Response(status=status, text=render.error_page(heading, message, fix, links),
                        content_type="text/html", charset="utf-8")


def _not_found_middleware(web: Any, links: Links) -> Any:
    @web.middleware
    async def middleware(request: web.Request, handler: Callable[..., Any]) -> web.StreamResponse:
        try:
            return await handler(request)
        except web.HTTPNotFound:
            return _error(web, 404, "Page not found", f"Nothing lives at {request.path}.", "", links)
    return middleware
