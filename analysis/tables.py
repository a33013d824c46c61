"""Plain-text rendering of the backfire table for the CLI, logs and Dagster metadata."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import duckdb

BACKFIRE_COLUMNS = ("language", "model", "evaluation_date", "n_low", "n_high", "cpi_g", "cpi_ci", "p_value",
                    "p_adjusted", "direction", "di_g", "di_p_adjusted", "di_direction", "g_monologue",
                    "g_pathology", "g_protective", "synthetic")
"""CPI's effect with its raw and adjusted p, DI's, and the g of each component (the reader sees which component
moved: CPI + DI = 2 z(monologue_ratio))."""

_QUERY = """
    select cpi.language, cpi.model, cpi.evaluation_date, cpi.n_low, cpi.n_high, cpi.hedges_g, cpi.g_ci_low,
           cpi.g_ci_high, cpi.p_value, cpi.p_adjusted, cpi.direction, di.hedges_g, di.p_adjusted, di.direction,
           cpi.g_monologue_ratio, cpi.g_pathology_rate, cpi.g_protective_rate, cpi.synthetic
    from marts.backfire_by_language cpi
    left join {dissociation} di
        on di.study = cpi.study and di.language = cpi.language and di.model = cpi.model
        and di.evaluation_date is not distinct from cpi.evaluation_date and di.synthetic = cpi.synthetic
    where cpi.study = ?
    order by cpi.language, cpi.model, cpi.evaluation_date, cpi.synthetic"""


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.2e}" if 0 < abs(value) < 1e-3 else f"{value:.3f}"
    return str(value)


def _interval(low: float | None, high: float | None) -> str:
    return "-" if low is None or high is None else f"[{low:.2f}, {high:.2f}]"


def _is_number(value: Any) -> bool:
    import decimal

    return isinstance(value, int | float | decimal.Decimal) and not isinstance(value, bool)


def render_table(columns: Sequence[str], rows: Sequence[Sequence[Any]], *, markdown: bool = False,
                 max_width: int | None = None) -> str:
    """Columns aligned by type (numbers right, everything else left) and sized in display cells, so ja/zh/ko/th
    rows line up; a cell wider than ``max_width`` cells is cut with an ellipsis (None: never cut)."""
    from analysis.display import cells, one_line, pad, truncate

    def shown(value: Any) -> str:
        text = one_line(_cell(value))
        return truncate(text, max_width) if max_width is not None else text

    grid = [[shown(v) for v in row] for row in rows]
    numeric = [any(_is_number(row[i]) for row in rows)
               and all(row[i] is None or _is_number(row[i]) for row in rows) for i in range(len(columns))]
    widths = [max([cells(c), *(cells(r[i]) for r in grid)]) for i, c in enumerate(columns)]
    sep = " | " if markdown else "  "

    def line(values: Sequence[str]) -> str:
        return sep.join(pad(v, w, right=n) for v, w, n in zip(values, widths, numeric, strict=True))

    lines = [line(list(columns)), sep.join("-" * w for w in widths), *(line(r) for r in grid)]
    if markdown:
        lines = [f"| {text} |" for text in lines]
    elif lines:
        lines = [text.rstrip() for text in lines]
    return "\n".join(lines)


SERVED_COLUMNS = ("language", "model", "requested_model", "served_model", "n_fingerprints", "n_calls",
                  "served_as_requested", "first_seen", "last_seen")
SERVED_SQL = """
    select language, model, requested_model, coalesce(served_model, '(not recorded)') as served_model,
           count(distinct system_fingerprint) as n_fingerprints, sum(n_calls) as n_calls,
           bool_and(served_as_requested) as served_as_requested,
           strftime(min(first_seen), '%Y-%m-%d %H:%M') as first_seen,
           strftime(max(last_seen), '%Y-%m-%d %H:%M') as last_seen
    from marts.served_models where study = ? group by all order by all"""
"""What was served per (language, model, requested model, served model): ``marts.served_models`` with its
fingerprints counted, for the report."""


def served_rows(con: duckdb.DuckDBPyConnection, study: str) -> list[tuple[Any, ...]]:
    """The study's served models (none when the marts predate ``marts.served_models``)."""
    from warehouse.connection import table_exists

    if not table_exists(con, "marts", "served_models"):
        return []
    return con.execute(SERVED_SQL, [study]).fetchall()


def served_models_table(con: duckdb.DuckDBPyConnection, study: str, *, markdown: bool = False) -> str:
    """Requested against served model per language, with a line per mismatch (pin a snapshot)."""
    rows = served_rows(con, study)
    if not rows:
        return "no served models recorded (marts built before marts.served_models)"
    mismatched = [row for row in rows if row[6] is False]
    note = "".join(f"\nWARNING: {row[0]} {row[1]}: requested {row[2]}, served {row[3]}: pin a snapshot "
                   "(models[].snapshot)" for row in mismatched)
    return render_table(SERVED_COLUMNS, rows, markdown=markdown) + ("\n" + note if note else "")


def backfire_rows(con: duckdb.DuckDBPyConnection, study: str) -> list[tuple[Any, ...]]:
    """One row per (language, model, date) in BACKFIRE_COLUMNS order (the CPI CI as one ``[low, high]`` cell)."""
    from warehouse.connection import table_exists

    # dbt materializes the CPI table first: its metadata is written before the DI table exists on a new warehouse
    dissociation = "marts.dissociation_by_language" if table_exists(con, "marts", "dissociation_by_language") else (
        "(select * from marts.backfire_by_language where false)")
    rows = []
    for row in con.execute(_QUERY.format(dissociation=dissociation), [study]).fetchall():
        rows.append((*row[:6], _interval(row[6], row[7]), *row[8:]))
    return rows


def reference_dependent(con: duckdb.DuckDBPyConnection, study: str) -> list[str]:
    """``language (METRIC[, model])`` for every effect whose direction changes with the z reference."""
    from warehouse.connection import table_exists

    if not table_exists(con, "marts", "reference_sensitivity"):
        return []
    found = con.execute("""select language, upper(metric), model from marts.reference_sensitivity
                           where study = ? and direction_depends_on_reference
                           order by language, metric, model""", [study]).fetchall()
    several_models = len({model for *_, model in found}) > 1
    return [f"{language} ({metric}{', ' + model if several_models else ''})" for language, metric, model in found]


def backfire_table(con: duckdb.DuckDBPyConnection, study: str, *, markdown: bool = False) -> str:
    """The study's per-language backfire table. Undated studies drop the date column; any synthetic row
    puts a banner on top and every row carries its own synthetic flag; a footnote names the effects whose
    direction depends on the z reference."""
    rows = backfire_rows(con, study)
    columns = list(BACKFIRE_COLUMNS)
    if all(row[2] is None for row in rows):
        columns.pop(2)
        rows = [row[:2] + row[3:] for row in rows]
    banner = ""
    if any(row[-1] for row in rows):
        banner = "SYNTHETIC DATA (planted effects, not a finding)\n\n" if all(row[-1] for row in rows) else \
            "CONTAINS SYNTHETIC ROWS (synthetic = True: planted effects, not findings)\n\n"
    text = banner + render_table(columns, rows, markdown=markdown)
    dependent = reference_dependent(con, study)
    if dependent:
        text += ("\n\nDirection depends on the z reference (language / study / baseline; "
                 f"marts.reference_sensitivity): {', '.join(dependent)}")
    return text
