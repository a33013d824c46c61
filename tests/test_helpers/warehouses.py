"""Warehouses with built marts for dbt tests: studies simulated and scored, then ``dbt build``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import duckdb


def build_warehouse(path: Path, studies: Sequence[dict], *,
                    before_scoring: Callable[[duckdb.DuckDBPyConnection], None] | None = None) -> Path:
    """Simulate and score each study dict into ``path``, run ``before_scoring`` (to stage an edge case), then
    build every dbt model and test; fails with dbt's output when the build does."""
    from core.study import parse_study
    from orchestration.dbt.project import run_dbt
    from scoring import get_scorer, score_pending
    from simulation.stages import record_design, simulate_study
    from warehouse.schema import ensure_raw_schema

    with duckdb.connect(str(path)) as con:
        ensure_raw_schema(con)
        for data in studies:
            study = parse_study(data, "test study")
            record_design(con, study)
            simulate_study(con, study)
        if before_scoring is not None:
            before_scoring(con)
        score_pending(con, get_scorer("lexicon"))
    done = run_dbt(["build"], path)
    assert done.returncode == 0, done.stdout[-4000:]
    return path
