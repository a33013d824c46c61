"""``backfire view``'s web app: aiohttp routes over a read-only DuckDB connection opened per request.

A connection is opened for each page and closed before the answer is sent, so the viewer never holds the
warehouse's lock between pages: a pipeline run can still take its writer lock while a browser is open. When a
writer holds it, the page says so (503) instead of waiting.
"""

from __future__ import annotations

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
DB_KEY = "backfire_db"


@contextlib.contextmanager
def read_only(db: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    from warehouse.connection import connect

    con = connect(db, read_only=True, wait_s=OPEN_WAIT_S)
    try:
        yield con
    finally:
        con.close()


def create_app(db: Path) -> web.Application:
    """The app serving the warehouse at ``db`` (which the caller has checked exists)."""
    from core.extras import require

    web = require("aiohttp.web", extra="view", feature="backfire view")
    links = Links()
    source = str(db)

    def page(build: Callable[[duckdb.DuckDBPyConnection, web.Request], str]) -> Callable[..., Any]:
        async def handler(request: web.Request) -> web.Response:
            try:
                with read_only(db) as con:
                    body = build(con, request)
            except RunNotFound as exc:
                return _error(web, 404, "Run not found", exc.problem, "Pick a run from the list.", links)
            except BackfireError as exc:
                status = 503 if "cannot open" in str(exc) else 400
                heading = "Cannot read the warehouse" if status == 503 else "Bad request"
                return _error(web, status, heading, str(exc), "", links)
            return web.Response(text=body, content_type="text/html", charset="utf-8")
        return handler

    app = web.Application(middlewares=[_not_found_middleware(web, links)])
    app[DB_KEY] = db
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
