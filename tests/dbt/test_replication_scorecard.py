"""The replication scorecard: published figures against real runs, planted directions against synthetic runs."""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from simulation.backends.synthetic import resolve_profile
from tests.test_helpers.warehouses import REAL_STUDY, SCORECARD_STUDY, STUDY_MARTS_STUDY, dbt_test_design

pytestmark = [pytest.mark.slow, pytest.mark.integration, pytest.mark.xdist_group("dbt_warehouse")]
SYNTHETIC_LANGUAGES = dbt_test_design(SCORECARD_STUDY)["languages"]


@pytest.fixture(scope="module")
def built(dbt_warehouse: Path) -> Path:
    """SCORECARD_STUDY is synthetic; REAL_STUDY (target study1) and STUDY_MARTS_STUDY (target study3) are marked
    real, so they are compared with the paper."""
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
    rows = {r["figure_id"]: r for r in _rows(built, "reference = 'published' and (study is null or study <> "
                                                  f"'{STUDY_MARTS_STUDY}')")}
    study3 = {"s3_individuated_di", "s3_conformity"}  # compared with STUDY_MARTS_STUDY, tested below
    assert len(rows) == 14 - len(study3) and not any(r["synthetic"] for r in rows.values())
    for figure, language, published in (("s1_g_en", "en", -1.844), ("s1_g_ja", "ja", 0.771)):
        row = rows[figure]
        assert row["study"] == REAL_STUDY and row["replication_target"] == "study1"  # joined on the target
        assert row["our_value"] == pytest.approx(ours[language])
        assert row["agrees_in_sign"] == ((ours[language] > 0) == (published > 0))
        low, high = ci[language]
        assert row["ci_covers_published"] == (low <= published <= high)
        assert row["agrees"] == (row["agrees_in_sign"] and row["ci_covers_published"])
        assert row["verdict"] == ("agrees" if row["agrees"] else "disagrees")
        assert "sign of" in row["rule"] and "CI covers" in row["rule"] and "not_computed" in row["rule"]
    assert rows["s2_pdi_r"]["verdict"] == "no_data" and "no complete real" in rows["s2_pdi_r"]["note"]
    assert "marts.stats_models" in rows["s2_interaction_beta"]["note"]
    secondary = [r for r in rows.values() if r["secondary"]]
    assert {r["figure_id"] for r in secondary} == {"s1_ja_harmony_share", "s1_ja_ratio_aligned",
                                                   "s1_ja_ratio_unaligned"}
    assert all("secondary coverage" in r["note"] and r["verdict"] in ("agrees", "disagrees", "not_computed")
               for r in secondary)
    assert all(r["rule"] for r in rows.values())


def _clustered_ratio(y: np.ndarray, x: np.ndarray) -> tuple[float, float, float]:
    """Ratio of sums over runs with the linearization (run-clustered) 95% CI."""
    n, ratio = len(y), y.sum() / x.sum()
    se = np.sqrt(((y - ratio * x) ** 2).sum() / (n * (n - 1))) / x.mean()
    half = stats.t.ppf(0.975, n - 1) * se
    return ratio, ratio - half, ratio + half


def test_study3_figures_are_run_clustered_over_individuation_runs(built: Path) -> None:
    with duckdb.connect(str(built), read_only=True) as con:
        agents = con.sql(f"""select a.run_id, r.model, r.individuation, a.individuated, a.di, m.conformity_hits,
                                    m.individuation_hits
                             from marts.agent_metrics a join marts.run_metrics r using (run_id)
                             join intermediate.int_agents_measured m using (run_id, agent_idx)
                             where r.study = '{STUDY_MARTS_STUDY}'""").df()
    rows = {(r["figure_id"], r["model"]): r for r in _rows(built, f"study = '{STUDY_MARTS_STUDY}'")}
    for model, frame in agents[agents.individuation].groupby("model"):
        per_run = frame.groupby("run_id")
        differences = (per_run.apply(lambda run: run[run.individuated].di.mean() - run[~run.individuated].di.mean(),
                                     include_groups=False)).to_numpy(float)
        row = rows["s3_individuated_di", model]
        half = stats.t.ppf(0.975, len(differences) - 1) * differences.std(ddof=1) / np.sqrt(len(differences))
        assert (row["our_value"], row["our_ci_low"], row["our_ci_high"]) == pytest.approx(
            (differences.mean(), differences.mean() - half, differences.mean() + half), abs=1e-9)
        hits = per_run[["conformity_hits", "individuation_hits"]].sum()
        ratio, low, high = _clustered_ratio(hits.conformity_hits.to_numpy(float),
                                            (hits.conformity_hits + hits.individuation_hits).to_numpy(float))
        row = rows["s3_conformity", model]
        assert (row["our_value"], row["our_ci_low"], row["our_ci_high"]) == pytest.approx((ratio, low, high),
                                                                                           abs=1e-9)
        assert row["verdict"] == ("agrees" if ratio >= 0.84 else "disagrees")
    # agents of runs without individuation never enter Study 3's figures
    assert not pd.isna(agents[~agents.individuation].di).all()
