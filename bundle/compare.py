"""Mart-by-mart comparison of a warehouse with a bundle: the round-trip check of ``backfire import`` and the
diff of ``backfire reproduce``. Rows are matched on every non-float column, floats compared to 1e-12 (the
iterative mixed-model fits of ``marts.stats_models`` to 1e-6: ``layout.ITERATIVE_FIT_TOLERANCE``)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bundle import layout

if TYPE_CHECKING:
    import duckdb
    import pandas as pd

TOLERANCE = 1e-12
_FLOAT_TYPES = ("DOUBLE", "FLOAT", "REAL")
_RUN_ID_COLUMNS = ("run_id", "content_hash")
"""Hashed ids that change when a pack changes; ``by_design`` replaces them by the run's cell of the design."""


@dataclass(frozen=True)
class MartDiff:
    table: str
    bundle_rows: int
    warehouse_rows: int
    differing_rows: int = 0
    """Rows matched on their keys whose values differ, plus rows that only one side has."""
    columns: dict[str, float | None] = field(default_factory=dict)
    """Columns that differ, with the largest absolute difference (None: not a float column)."""
    missing_columns: list[str] = field(default_factory=list)
    extra_columns: list[str] = field(default_factory=list)

    @property
    def equal(self) -> bool:
        return (self.bundle_rows == self.warehouse_rows and not self.differing_rows and not self.columns
                and not self.missing_columns and not self.extra_columns)

    def describe(self) -> str:
        if self.equal:
            return f"{self.table}: {self.bundle_rows} rows, equal"
        parts = [f"{self.table}: bundle {self.bundle_rows} rows, warehouse {self.warehouse_rows}"]
        if self.differing_rows:
            parts.append(f"{self.differing_rows} rows differ")
        if self.columns:
            parts.append("in " + ", ".join(f"{c} (max |diff| {d:.3g})" if d is not None else c
                                          for c, d in sorted(self.columns.items())))
        if self.missing_columns:
            parts.append("columns only in the bundle: " + ", ".join(self.missing_columns))
        if self.extra_columns:
            parts.append("columns only in the warehouse: " + ", ".join(self.extra_columns))
        return "; ".join(parts)


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")


def _frame(con: duckdb.DuckDBPyConnection, source: str, columns: list[tuple[str, str]],
           design_keys: str | None) -> pd.DataFrame:
    """The rows of ``source``: floats as DOUBLE, everything else as text; with design keys (a reproduction) run
    ids replaced by the run's cell and the execution columns left out."""
    select = []
    for name, kind in columns:
        quoted = '"' + name.replace('"', '""') + '"'
        if design_keys and (name in _RUN_ID_COLUMNS or name in layout.EXECUTION_COLUMNS):
            continue
        select.append(f"{quoted}::double as {quoted}" if kind in _FLOAT_TYPES or kind.startswith("DECIMAL")
                      else f"{quoted}::varchar as {quoted}")
    names = {name for name, _ in columns}
    if design_keys and "run_id" in names:
        select.append("keys.design_key as design_key")
        return con.execute(f"select {', '.join(select)} from ({source}) as src "
                           f"left join ({design_keys}) as keys using (run_id)").df()
    return con.execute(f"select {', '.join(select)} from ({source}) as src").df()


def _design_keys(runs: str) -> str:
    parts = " || '|' || ".join(f"coalesce({c}::varchar, '')" for c in layout.DESIGN_KEY_COLUMNS)
    return f"select run_id, {parts} as design_key from ({runs})"


def _column_types(con: duckdb.DuckDBPyConnection, source: str) -> list[tuple[str, str]]:
    return [(name, kind) for name, kind, *_ in con.execute(f"describe {source}").fetchall()]


def _sorted(frame: pd.DataFrame, keys: list[str], floats: list[str]) -> pd.DataFrame:
    rounded = frame.assign(**{f"__r_{c}": frame[c].round(5) for c in floats})
    order = keys + [f"__r_{c}" for c in floats]
    return rounded.sort_values(order, kind="mergesort", na_position="first").reset_index(drop=True)[frame.columns]


def compare_mart(con: duckdb.DuckDBPyConnection, table: str, parquet: Path, *, study: str | None,
                 bundle_runs: Path | None = None) -> MartDiff:
    """Compare one mart of the warehouse (the study's rows) with the bundle's Parquet file of it.

    ``bundle_runs`` (the bundle's ``raw.runs``) switches to matching runs by their cell of the design instead
    of their run id: a reproduction with changed packs gets new ids for the same runs.
    """
    bundle_source = f"select * from read_parquet('{_sql_path(parquet)}')"
    bundle_columns = _column_types(con, bundle_source)
    schema, name = table.split(".", 1)
    exists = con.execute("select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
                         [schema, name]).fetchone()[0]  # type: ignore[index]
    bundle_rows = int(con.execute(f"select count(*) from ({bundle_source})").fetchone()[0])  # type: ignore[index]
    if not exists:
        return MartDiff(table, bundle_rows, 0, bundle_rows, missing_columns=[c for c, _ in bundle_columns])
    warehouse_columns = _column_types(con, f"select * from {table}")
    has_study = any(c == "study" for c, _ in warehouse_columns)
    warehouse_source = f"select * from {table}" + (f" where study = '{study}'" if has_study and study else "")
    bundle_names, warehouse_names = [c for c, _ in bundle_columns], [c for c, _ in warehouse_columns]
    shared = [(c, k) for c, k in warehouse_columns if c in bundle_names]
    design = None
    if bundle_runs is not None:
        design = (_design_keys(f"select * from read_parquet('{_sql_path(bundle_runs)}')"),
                  _design_keys("select * from raw.runs"))
    expected = _frame(con, bundle_source, [(c, k) for c, k in bundle_columns if c in dict(shared)],
                      design[0] if design else None)
    actual = _frame(con, warehouse_source, shared, design[1] if design else None)
    tolerance = layout.ITERATIVE_FIT_TOLERANCE.get(name, TOLERANCE)
    diff = _diff_frames(expected, actual, [c for c, k in shared if k in _FLOAT_TYPES or k.startswith("DECIMAL")],
                        tolerance)
    return MartDiff(table, len(expected), len(actual), diff[0], diff[1],
                    [c for c in bundle_names if c not in warehouse_names],
                    [c for c in warehouse_names if c not in bundle_names])


def _diff_frames(expected: pd.DataFrame, actual: pd.DataFrame, floats: list[str],
                 tolerance: float = TOLERANCE) -> tuple[int, dict[str, float | None]]:
    keys = [c for c in expected.columns if c not in floats]
    floats = [c for c in floats if c in expected.columns]
    if len(expected) != len(actual):
        merged = expected[keys].merge(actual[keys], how="outer", indicator=True)
        return int((merged["_merge"] != "both").sum()) or abs(len(expected) - len(actual)), {}
    left, right = _sorted(expected, keys, floats), _sorted(actual, keys, floats)
    bad_rows: set[int] = set()
    columns: dict[str, float | None] = {}
    for column in keys:
        differs = ~((left[column] == right[column]) | (left[column].isna() & right[column].isna()))
        if differs.any():
            columns[column] = None
            bad_rows |= set(differs[differs].index)
    for column in floats:
        worst = 0.0
        for i, (a, b) in enumerate(zip(left[column], right[column], strict=True)):
            a_nan, b_nan = a is None or _isnan(a), b is None or _isnan(b)
            if a_nan and b_nan:
                continue
            if a_nan != b_nan or not math.isclose(a, b, rel_tol=tolerance, abs_tol=tolerance):
                bad_rows.add(i)
                worst = max(worst, math.inf if a_nan != b_nan else abs(a - b))
        if worst:
            columns[column] = worst
    return len(bad_rows), columns


def _isnan(value: Any) -> bool:
    try:
        return math.isnan(value)
    except TypeError:
        return False


def compare_marts(con: duckdb.DuckDBPyConnection, root: Path, manifest: dict[str, Any], *,
                  by_design: bool = False) -> list[MartDiff]:
    """Every mart of the bundle against the warehouse's rows of the same study (see ``compare_mart``).

    ``by_design`` (a reproduction) matches runs by their cell of the design and leaves out how they were
    executed: the call-accounting marts and the columns of ``layout.EXECUTION_COLUMNS``.
    """
    from bundle.importer import bundle_marts

    runs = root / layout.table_path("raw", "runs") if by_design else None
    skipped = {f"marts.{name}" for name in layout.EXECUTION_MARTS} if by_design else set()
    return [compare_mart(con, table, path, study=manifest["study"], bundle_runs=runs)
            for table, path in sorted(bundle_marts(root, manifest).items()) if table not in skipped]
