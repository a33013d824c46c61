"""The demo materialized in-process through the Dagster definitions recovers the planted effects."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from orchestration.launch import materialize_study
from tests.conftest import REPO_ROOT

pytestmark = [pytest.mark.slow, pytest.mark.integration]

TABLES = ["raw.runs", "raw.agents", "raw.utterances", "raw.scores", "marts.run_metrics", "marts.agent_metrics",
          "marts.backfire_by_language", "marts.dissociation_by_language"]


def _counts(path: Path) -> dict[str, int]:
    with duckdb.connect(str(path), read_only=True) as con:
        return {t: con.execute(f"select count(*) from {t}").fetchone()[0] for t in TABLES}  # type: ignore[index]


def test_demo_recovers_planted_directions_and_reruns_without_duplicates(tmp_path: Path) -> None:
    db = tmp_path / "demo.duckdb"
    first = materialize_study(REPO_ROOT / "studies" / "demo.yaml", db=db)
    assert first.success, first.failures
    with duckdb.connect(str(db), read_only=True) as con:
        directions = dict(con.execute("select language, direction from marts.backfire_by_language "
                                      "where study = 'demo'").fetchall())
        synthetic = con.execute("select bool_and(synthetic) from marts.run_metrics").fetchone()[0]  # type: ignore[index]
        fidelity = con.execute("select min(language_fidelity) from marts.run_metrics").fetchone()[0]  # type: ignore[index]
        covered = con.execute("select bool_and(covered) from marts.scorer_coverage "
                              "where scorer in ('lexicon', 'langid')").fetchone()[0]  # type: ignore[index]
    assert directions == {"en": "reduced", "de": "reduced", "ja": "amplified", "ko": "amplified"}
    assert synthetic is True
    assert fidelity is not None and fidelity >= 0.8  # the demo study runs the langid scorer (metric v2)
    assert covered is True
    counts = _counts(db)
    assert counts["raw.runs"] == 96 and counts["raw.utterances"] == 96 * 10 * 15 * 2
    assert (db.parent / "reports" / "demo_backfire.md").is_file()

    second = materialize_study(REPO_ROOT / "studies" / "demo.yaml", db=db)
    assert second.success, second.failures
    assert _counts(db) == counts
    with duckdb.connect(str(db), read_only=True) as con:
        duplicates = con.execute("select count(*) - count(distinct (run_id, turn, agent_idx, channel)) "
                                 "from raw.utterances").fetchone()[0]  # type: ignore[index]
    assert duplicates == 0
