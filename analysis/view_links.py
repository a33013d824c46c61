"""Links into ``backfire view``: the runs of one cell (study, language, model, date) and one run's page.

The report and the Dagster metadata build them here, below the viewer, so everyone agrees on the routes
(``/?study=...&language=...`` lists runs, ``/run/<run_id>`` shows one). ``BACKFIRE_VIEW_URL`` says where a
viewer runs (read when a link is built, never at import).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlencode

VIEW_URL_ENV = "BACKFIRE_VIEW_URL"
DEFAULT_VIEW_URL = "http://127.0.0.1:8765"
"""Where ``backfire view`` serves by default; the report links there when no address is configured."""
CELL_FILTERS = ("study", "language", "model", "evaluation_date", "synthetic", "aligned_share", "individuation")


def configured_view_url() -> str | None:
    """``BACKFIRE_VIEW_URL`` without its trailing slash, or None when unset (Dagster metadata then carries no
    link)."""
    value = os.environ.get(VIEW_URL_ENV, "").strip()
    return value.rstrip("/") or None


def view_base() -> str:
    """The configured viewer address, else the local default of ``backfire view``."""
    return configured_view_url() or DEFAULT_VIEW_URL


def _query_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def runs_url(base: str, cell: Mapping[str, Any]) -> str:
    """The runs list filtered to a cell; a cell without an evaluation date filters to undated runs."""
    query = {name: _query_value(cell[name]) for name in CELL_FILTERS if name in cell and cell[name] is not None}
    if "evaluation_date" in cell and cell["evaluation_date"] is None:
        query["evaluation_date"] = "none"
    return f"{base.rstrip('/')}/?{urlencode(query)}"


def run_url(base: str, run_id: str) -> str:
    return f"{base.rstrip('/')}/run/{quote(run_id)}"
