"""The replication scorecard: published figures against real runs, planted directions against synthetic runs."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from simulation.backends.synthetic import resolve_profile
from tests.test_helpers.warehouses import REAL_STUDY, SCORECARD_STUDY, dbt_test_design

pytestmark = [pytest.mark.slow, pytest.mark.integration, pytest.mark.xdist_group("dbt_warehouse")]
SYNTHETIC_LANGUAGES = dbt_test_design(SCORECARD_STUDY)["languages"]


@pytest.fixture(scope="module")
def built(dbt_warehouse: Path) -> Path:
    """SCORECARD_STUDY is synthetic; REAL_STUDY (study1) is marked real, so it is compared with the paper."""
    return dbt_warehouse


def _rows(path: Path, where: str) -> list[dict]:
    with duckdb.connect(str(path), read_only=True) as con:
        frame = con.sql(f"select * from marts.replication_scorecard where {where}").df()
    return frame.to_dict(orient="records")


def test_synthetic_runs_are_scored_against_the_planted_truth(built: Path) -> None:
    rows = _rows(built, f"reference = 'planted' and study = '{SCORECARD_STUDY}'")
    assert len(rows) == len(SYNTHETIC_LANGUAGES) * 2  # languages x (cpi, di)
    assert not _rows(built, f"reference = 'planted' and study = '{REAL_STUDY}'")  # the real study is not planted
    for row in rows:
        profile = resolve_profile(row["model"], row["language"])
        metric = row["figure_id"].split(":")[1]
        planted = profile.planted_direction if metric == "cpi" else profile.planted_di_direction
        assert row["study"] == SCORECARD_STUDY and row["synthetic"] and row["published_text"] == planted
        assert row["agrees"] == (row["our_text"] == planted)
        assert "planted truth" in row["note"]
    cpi = {r["language"]: r for r in rows if ":cpi:" in r["figure_id"]}
    assert cpi["en"]["agrees"] and cpi["ja"]["agrees"]  # planted en reduced, ja amplified, recovered


def test_real_runs_are_compared_with_the_published_figures(built: Path) -> None:
    with duckdb.connect(str(built), read_only=True) as con:
        ours = dict(con.execute("select language, hedges_g from marts.backfire_by_language "
                                "where study = ?", [REAL_STUDY]).fetchall())
        ci = {lang: (low, high) for lang, low, high in con.execute(
            "select language, g_ci_low, g_ci_high from marts.backfire_by_language where study = ?",
            [REAL_STUDY]).fetchall()}
    rows = {r["figure_id"]: r for r in _rows(built, "reference = 'published'")}
    assert len(rows) == 11 and not any(r["synthetic"] for r in rows.values())
    for figure, language, published in (("s1_g_en", "en", -1.844), ("s1_g_ja", "ja", 0.771)):
        row = rows[figure]
        assert row["our_value"] == pytest.approx(ours[language])
        assert row["agrees_in_sign"] == ((ours[language] > 0) == (published > 0))
        low, high = ci[language]
        assert row["ci_covers_published"] == (low <= published <= high)
        assert row["agrees"] == (row["agrees_in_sign"] and row["ci_covers_published"])
    assert rows["s2_pdi_r"]["our_value"] is None or rows["s2_pdi_r"]["our_value"] != rows["s2_pdi_r"]["our_value"]
    assert "no complete real" in rows["s2_pdi_r"]["note"]
    assert "marts.stats_models" in rows["s2_interaction_beta"]["note"]
