"""Plain-text rendering of the backfire table for the CLI, logs and Dagster metadata."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import duckdb

BACKFIRE_COLUMNS = ("language", "model", "evaluation_date", "n_low", "n_high", "mean_cpi_low", "mean_cpi_high", "slope",
                    "hedges_g", "g_ci_low", "g_ci_high", "p_value", "direction", "synthetic")


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.2e}" if 0 < abs(value) < 1e-3 else f"{value:.3f}"
    return str(value)


def render_table(columns: Sequence[str], rows: Sequence[Sequence[Any]], *, markdown: bool = False) -> str:
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) if cells else len(c) for i, c in enumerate(columns)]
    sep = " | " if markdown else "  "
    lines = [sep.join(c.ljust(w) for c, w in zip(columns, widths, strict=True))]
    lines.append(sep.join("-" * w for w in widths))
    lines += [sep.join(v.rjust(w) if i > 1 else v.ljust(w) for i, (v, w) in enumerate(zip(r, widths, strict=True)))
              for r in cells]
    if markdown:
        lines = [f"| {line} |" for line in lines]
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
    return con.execute(f"select {', '.join(BACKFIRE_COLUMNS)} from marts.backfire_by_language "
                       "where study = ? order by language, model, evaluation_date, synthetic", [study]).fetchall()


def backfire_table(con: duckdb.DuckDBPyConnection, study: str, *, markdown: bool = False) -> str:
    """The study's per-language backfire table. Undated studies drop the date column; any synthetic row
    puts a banner on top and every row carries its own synthetic flag."""
    rows = backfire_rows(con, study)
    columns = list(BACKFIRE_COLUMNS)
    if all(row[2] is None for row in rows):
        columns.pop(2)
        rows = [row[:2] + row[3:] for row in rows]
    banner = ""
    if any(row[-1] for row in rows):
        banner = "SYNTHETIC DATA (planted effects, not a finding)\n\n" if all(row[-1] for row in rows) else \
            "CONTAINS SYNTHETIC ROWS (synthetic = True: planted effects, not findings)\n\n"
    return banner + render_table(columns, rows, markdown=markdown)
