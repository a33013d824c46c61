"""The Jinja2 environment and each page's context, for the server and the static export alike.

Autoescape is on for every template: model text is untrusted (a reply may well contain ``<script>``), and the
only markup passed through unescaped is the SVG that ``viewer.charts`` builds, whose labels it escapes.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from viewer.pages import Links, direction, run_context
from viewer.queries import RunFilters, dissociation_examples, facets, list_runs

if TYPE_CHECKING:
    import duckdb
    import jinja2

TEMPLATES = Path(__file__).with_name("templates")
STATIC = Path(__file__).with_name("static")
LIST_COLUMNS = (("run_id", "run"), ("study", "study"), ("language", "lang"), ("model", "model"),
                ("aligned_share", "share"), ("individuation", "indiv."), ("replicate", "rep"),
                ("evaluation_date", "date"), ("synthetic", "synthetic"), ("pack_version", "pack"),
                ("turns_played", "turns"), ("n_failed", "not ok"), ("cpi", "CPI"), ("di", "DI"),
                ("monologue_ratio", "mono ratio"), ("pathology_rate", "pathology"),
                ("protective_rate", "protective"), ("conformity_share", "conformity"), ("cpi_v2", "CPI v2"),
                ("di_v2", "DI v2"))


def fmt(value: Any) -> str:
    """Numbers to three decimals (tiny ones in scientific notation), booleans as yes/no, missing as a dash."""
    if value is None or (isinstance(value, float) and value != value):
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if value == int(value) and abs(value) < 1e6:
            return f"{value:g}"
        return f"{value:.2e}" if 0 < abs(value) < 1e-3 else f"{value:.3f}"
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


@functools.cache
def environment() -> jinja2.Environment:
    import jinja2

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["fmt"] = fmt
    return env


def render(template: str, **context: Any) -> str:
    return environment().get_template(template).render(**context)


def with_cells(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each run row with its table cells formatted here: 1,200 rows x 20 columns through Jinja's per-cell
    logic took over a second; a loop over ready strings takes a fraction of that."""
    for run in runs:
        run["cells"] = [{"column": column, "value": "" if (value := run[column]) is None else value,
                         "text": fmt(value),
                         "css": "text" if isinstance(value, str) else ("bad" if column == "n_failed" and value
                                                                        else "")}
                        for column, _ in LIST_COLUMNS]
    return runs


def runs_page(con: duckdb.DuckDBPyConnection, filters: RunFilters, links: Links, source: str = "") -> str:
    runs = with_cells(list_runs(con, filters))
    return render("runs.html", runs=runs, filters=filters, facets=facets(con), columns=LIST_COLUMNS, links=links,
                  source=source)


def run_html(con: duckdb.DuckDBPyConnection, run_id: str, links: Links, source: str = "") -> str:
    return render("run.html", **run_context(con, run_id), links=links, source=source)


def compare_page(con: duckdb.DuckDBPyConnection, chosen: Mapping[str, str], links: Links, source: str = "") -> str:
    runs = list_runs(con, RunFilters(sort="language", descending=False))
    return render("compare.html", runs=runs, chosen={"a": chosen.get("a", ""), "b": chosen.get("b", "")},
                  links=links, source=source)


DISSOCIATION_FILTERS = ("language", "aligned_share", "aligned", "direction")


def dissociation_page(con: duckdb.DuckDBPyConnection, query: Mapping[str, str], links: Links,
                      source: str = "", *, limit: int = 100, study: str = "",
                      run_ids: Sequence[str] | None = None) -> str:
    chosen = {name: str(query.get(name, "")) for name in DISSOCIATION_FILTERS}
    examples = dissociation_examples(con, **chosen, study=study, run_ids=run_ids, limit=limit)
    scripts = dict(con.execute("select language, any_value(script) from raw.content_packs group by 1").fetchall())
    for example in examples:
        example["dir"] = direction(scripts.get(example["language"]))
    return render("dissociation.html", examples=examples, filters=chosen, facets=facets(con), links=links,
                  source=source)


def error_page(heading: str, message: str, fix: str, links: Links) -> str:
    return render("error.html", heading=heading, message=message, fix=fix, links=links, source="")
