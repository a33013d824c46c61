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
from viewer.queries import FAILED_STATUSES, RunFilters, dissociation_examples, facets, list_runs

if TYPE_CHECKING:
    import duckdb
    import jinja2
    from markupsafe import Markup

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


ROW_ATTRIBUTES = ("study", "language", "model", "aligned_share", "individuation", "synthetic", "evaluation_date",
                  "n_failed", "n_error", "n_parse_error", "n_refused", "n_truncated")
"""The data attributes of a list row that the page's script filters on (the static bundle filters there)."""


def runs_rows(runs: list[dict[str, Any]], links: Links) -> Markup:
    """The runs table's body, built here rather than in Jinja: 1,200 rows x 20 cells through the template's
    per-cell logic took most of a second; string building takes a tenth of that. Every value goes through
    markupsafe's ``escape``, as autoescape would."""
    from markupsafe import Markup, escape

    def attribute(value: Any) -> str:
        if isinstance(value, bool):
            return "true" if value else "false"
        return "" if value is None else str(escape(value))

    parts = []
    for run in runs:
        attributes = " ".join(f'data-{name}="{attribute(run[name])}"' for name in ROW_ATTRIBUTES)
        cells = []
        for column, _ in LIST_COLUMNS:
            value = run[column]
            raw = attribute(value)
            if column == "run_id":
                cells.append(f'<td class="text mono" data-value="{raw}"><a href="{escape(links.run(value))}">'
                             f"{raw}</a></td>")
            elif column == "n_failed":
                title = ", ".join(f"{status} {run['n_' + status]}" for status in FAILED_STATUSES)
                cells.append(f'<td data-col="n_failed" data-value="{raw}" class="{"bad" if value else ""}" '
                             f'title="{title}">{raw}</td>')
            else:
                css = "text" if isinstance(value, str) else ""
                cells.append(f'<td class="{css}" data-col="{column}" data-value="{raw}">{escape(fmt(value))}</td>')
        parts.append(f"<tr {attributes}>{''.join(cells)}</tr>")
    return Markup("\n".join(parts))


def runs_page(con: duckdb.DuckDBPyConnection, filters: RunFilters, links: Links, source: str = "") -> str:
    runs = list_runs(con, filters)
    return render("runs.html", runs=runs, rows=runs_rows(runs, links), filters=filters, facets=facets(con),
                  columns=LIST_COLUMNS, links=links, source=source)


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
