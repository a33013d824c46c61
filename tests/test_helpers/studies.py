"""Small synthetic studies and warehouses for tests."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import duckdb


def small_study_dict(**design: object) -> dict:
    """A quick synthetic study: two languages, two shares, few turns."""
    base = {"languages": ["en", "ja"], "aligned_shares": [0.0, 1.0], "replicates": 2, "n_agents": 10,
            "n_turns": 4}
    base.update(design)
    return {"name": "small", "seed": 7, "design": base, "models": [{"name": "synthetic-test", "backend": "synthetic"}]}


def fill_warehouse(con: duckdb.DuckDBPyConnection, **design: object) -> None:
    """Record the packs, design, simulate and score a small synthetic study into ``con``, as the pipeline does."""
    from core.study import parse_study
    from scoring import get_scorer, score_pending
    from simulation.stages import record_content, record_design, simulate_study
    from warehouse.schema import ensure_raw_schema

    ensure_raw_schema(con)
    study = parse_study(small_study_dict(**design), "test study")
    record_content(con, study)
    record_design(con, study)
    simulate_study(con, study)
    score_pending(con, get_scorer("lexicon"))
