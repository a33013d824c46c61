"""Pools of synthetic runs for ``backfire power``, measured by the marts' own SQL.

A pool is a small synthetic study played by the stage functions into a scratch warehouse, scored by the
lexicon, then measured by ``dbt run`` of ``marts.run_metrics`` and its parents: the run-level rates and the
CPI (z-scored over the pool, the study's reference population) are exactly the marts' definitions, never a
second copy of them.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from core.errors import BackfireError


def simulate_pool(language: str, model: str, *, shares: tuple[float, ...], runs_per_share: int, n_agents: int,
                  n_turns: int, seed: int) -> Any:
    """``run_id, aligned_share, monologue_ratio, pathology_rate, protective_rate, cpi`` per synthetic run."""
    import duckdb

    from core.study import parse_study
    from orchestration.dbt.project import run_dbt
    from scoring import get_scorer, score_pending
    from simulation.stages import record_content, record_design, simulate_study
    from warehouse.connection import DUCKDB_CONFIG
    from warehouse.schema import ensure_raw_schema

    study = parse_study({"name": f"power-{language}", "seed": seed, "design": {
        "languages": [language], "aligned_shares": list(shares), "replicates": runs_per_share,
        "n_agents": n_agents, "n_turns": n_turns}, "models": [{"name": model, "backend": "synthetic"}]},
        "power analysis")
    with tempfile.TemporaryDirectory(prefix="backfire-power-") as scratch:
        db = Path(scratch) / "pool.duckdb"
        with duckdb.connect(str(db), config=dict(DUCKDB_CONFIG)) as con:
            ensure_raw_schema(con)
            record_content(con, study)
            record_design(con, study)
            simulate_study(con, study)
            score_pending(con, get_scorer("lexicon"))
        done = run_dbt(["run", "--quiet", "--select", "+run_metrics", "--target-path", str(Path(scratch) / "target"),
                        "--log-path", scratch], db)
        if done.returncode != 0:
            tail = "\n  ".join((done.stdout + done.stderr).strip().splitlines()[-15:])
            raise BackfireError(f"the power pool's marts failed to build:\n  {tail}")
        with duckdb.connect(str(db), read_only=True) as con:
            return con.execute("""
                select run_id, aligned_share, monologue_ratio, pathology_rate, protective_rate, cpi
                from marts.run_metrics order by aligned_share, run_id""").df()
