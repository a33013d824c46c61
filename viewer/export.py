"""``backfire view --export DIR``: the same pages as a static bundle that opens from disk (file://).

The bundle holds ``index.html`` (the runs list; its filters and sort run in the page's script, from the URL),
``run/<run_id>.html`` per selected run, ``compare.html`` and ``dissociation.html``, ``static/`` (the same CSS
and JS as the server), and the selected runs as JSON: ``data/runs.json`` (the list's rows) and
``data/run/<run_id>.json`` (each run's agents, utterances and scores). No page fetches anything: browsers
refuse fetch() from file://, so the HTML is rendered here and the JSON is for other tools.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from viewer import render
from viewer.pages import Links
from viewer.queries import RunFilters, list_runs, run_page

if TYPE_CHECKING:
    import duckdb


@dataclasses.dataclass(frozen=True)
class ExportResult:
    folder: Path
    n_runs: int


def _json_default(value: Any) -> Any:
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    return str(value)


def _dump(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, default=_json_default, ensure_ascii=False), encoding="utf-8")


def export_bundle(con: duckdb.DuckDBPyConnection, folder: Path, *, study: str = "",
                  languages: Sequence[str] = (), max_runs: int | None = None) -> ExportResult:
    """Write the bundle for the runs of ``study`` (any if empty) in ``languages`` (all if empty), at most
    ``max_runs`` of them (spread over the languages: each gets its turn, in the list's CPI order)."""
    selected = [r for r in list_runs(con, RunFilters(study=study))
                if not languages or r["language"] in languages]
    if max_runs is not None and len(selected) > max_runs:
        selected = _spread(selected, max_runs)
    chosen = {r["run_id"] for r in selected}
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "run").mkdir(exist_ok=True)
    (folder / "data" / "run").mkdir(parents=True, exist_ok=True)
    shutil.copytree(render.STATIC, folder / "static", dirs_exist_ok=True)
    links = Links(static=True, prefix="")
    source = f"static export: {len(selected)} runs"
    html = render.render("runs.html", runs=selected, rows=render.runs_rows(selected, links),
                         filters=RunFilters(study=study), facets=_facets(selected), columns=render.LIST_COLUMNS,
                         links=links, source=source)
    (folder / "index.html").write_text(html, encoding="utf-8")
    compare = render.render("compare.html", runs=sorted(selected, key=lambda r: (r["language"], r["run_id"])),
                            chosen={"a": "", "b": ""}, links=links, source=source)
    (folder / "compare.html").write_text(compare, encoding="utf-8")
    dissociation = render.dissociation_page(con, {}, links, source, limit=300, run_ids=sorted(chosen))
    (folder / "dissociation.html").write_text(dissociation, encoding="utf-8")
    _dump(folder / "data" / "runs.json", selected)
    nested = links.nested()
    for run in selected:
        run_id = run["run_id"]
        (folder / "run" / f"{run_id}.html").write_text(render.run_html(con, run_id, nested, source),
                                                      encoding="utf-8")
        page = run_page(con, run_id)
        _dump(folder / "data" / "run" / f"{run_id}.json", dataclasses.asdict(page))
    return ExportResult(folder, len(selected))


def _spread(runs: list[dict[str, Any]], limit: int) -> list[dict[str, Any]]:
    by_language: dict[str, list[dict[str, Any]]] = {}
    for run in runs:
        by_language.setdefault(run["language"], []).append(run)
    picked: list[dict[str, Any]] = []
    while len(picked) < limit:
        for queue in by_language.values():
            if queue and len(picked) < limit:
                picked.append(queue.pop(0))
    return picked


def _facets(runs: Sequence[dict[str, Any]]) -> dict[str, list[Any]]:
    return {name: sorted({r[name] for r in runs if r[name] is not None})
            for name in ("study", "language", "model", "aligned_share", "evaluation_date")}

