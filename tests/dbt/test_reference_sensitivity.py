"""z references, component effects and multiplicity against an independent pandas/scipy/statsmodels
recomputation from marts.run_metrics' measures (to 1e-9)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.multitest import multipletests

from analysis.effects import hedges_g
from tests.test_helpers.warehouses import MARTS_STUDY, STUDY_MARTS_STUDY

pytestmark = [pytest.mark.slow, pytest.mark.integration, pytest.mark.xdist_group("dbt_warehouse")]
MEASURES = ["monologue_ratio", "pathology_rate", "protective_rate"]
CELL = ["study", "language", "model", "evaluation_date", "synthetic"]
STUDIES = (MARTS_STUDY, STUDY_MARTS_STUDY)  # Holm (the default) and BH


def _frame(path: Path, sql: str) -> pd.DataFrame:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.sql(sql).df()


def _standardize(runs: pd.DataFrame, keys: list[str], reference: pd.Series) -> pd.DataFrame:
    out = runs.copy()
    for measure in MEASURES:
        ref = runs[measure].where(reference)
        mean = ref.groupby([runs[k] for k in keys], dropna=False).transform("mean")
        sd = ref.groupby([runs[k] for k in keys], dropna=False).transform(lambda x: x.std(ddof=1))
        out[f"z_{measure}"] = ((runs[measure] - mean) / sd.where(sd > 0)).fillna(0.0)
    out["cpi"] = out.z_monologue_ratio + out.z_pathology_rate - out.z_protective_rate
    out["di"] = out.z_monologue_ratio + out.z_protective_rate - out.z_pathology_rate
    return out


def _recomputed(runs: pd.DataFrame) -> dict[str, pd.DataFrame]:
    everyone = pd.Series(True, index=runs.index)
    baseline = (runs.aligned_share == 0) & ~runs.individuation
    return {"language": _standardize(runs, CELL, everyone),
            "study": _standardize(runs, ["study", "model", "evaluation_date", "synthetic"], everyone),
            "baseline": _standardize(runs, CELL, baseline)}


@pytest.fixture(scope="module")
def marts(dbt_warehouse: Path) -> dict[str, pd.DataFrame]:
    studies = ", ".join(f"'{study}'" for study in STUDIES)
    return {"runs": _frame(dbt_warehouse, f"select * from marts.run_metrics where study in ({studies})"),
            "effects": _frame(dbt_warehouse, f"select * from marts.alignment_effects where study in ({studies})"),
            "sensitivity": _frame(dbt_warehouse,
                                  f"select * from marts.reference_sensitivity where study in ({studies})")}


def test_every_reference_standardizes_as_documented(marts: dict[str, pd.DataFrame]) -> None:
    runs = marts["runs"]
    for reference, frame in _recomputed(runs).items():
        for metric in ("cpi", "di"):
            np.testing.assert_allclose(runs[f"{metric}_{reference}"], frame[metric], atol=1e-9,
                                       err_msg=f"{metric} under {reference}")
    assert (runs.zscore_reference == "language").all()  # the default
    np.testing.assert_allclose(runs.cpi, runs.cpi_language, atol=1e-12)


def _effect(runs: pd.DataFrame, values: pd.Series) -> tuple[float | None, float | None, float | None]:
    arms = runs[~runs.individuation].assign(value=values)
    low, high = arms.aligned_share.min(), arms.aligned_share.max()
    effect = hedges_g(arms[arms.aligned_share == high].value.tolist(), arms[arms.aligned_share == low].value.tolist())
    return effect.hedges_g, effect.ci_low, effect.p_value


def test_reference_sensitivity_and_components_match_a_recomputation(marts: dict[str, pd.DataFrame]) -> None:
    runs, sensitivity, effects = marts["runs"], marts["sensitivity"], marts["effects"]
    recomputed = _recomputed(runs)
    checked = 0
    for row in sensitivity.itertuples():
        in_cell = (runs.study == row.study) & (runs.language == row.language) & (runs.model == row.model)
        for reference in ("language", "study", "baseline"):
            g, ci_low, _ = _effect(runs[in_cell], recomputed[reference][in_cell][row.metric])
            assert getattr(row, f"g_{reference}") == pytest.approx(g, abs=1e-9)
            assert getattr(row, f"g_ci_low_{reference}") == pytest.approx(ci_low, abs=1e-9)
        directions = {getattr(row, f"direction_{reference}") for reference in ("language", "study", "baseline")}
        assert row.direction_depends_on_reference == (len(directions) > 1)
        checked += 1
    assert checked == 2 * len(runs.groupby(["study", "language", "model"]))
    for row in effects[effects.metric.isin(MEASURES)].itertuples():
        in_cell = (runs.study == row.study) & (runs.language == row.language) & (runs.model == row.model)
        g, ci_low, p = _effect(runs[in_cell], runs[in_cell][row.metric])
        assert (row.hedges_g, row.g_ci_low, row.p_value) == pytest.approx((g, ci_low, p), abs=1e-9)


def test_p_values_are_adjusted_within_each_study_and_metric_family(marts: dict[str, pd.DataFrame]) -> None:
    effects = marts["effects"]
    methods = {MARTS_STUDY: "holm", STUDY_MARTS_STUDY: "fdr_bh"}
    families = 0
    for (study, metric), family in effects.groupby(["study", "metric"]):
        tested = family.dropna(subset=["p_value"])
        if tested.empty:
            continue
        expected = multipletests(tested.p_value, method=methods[study])[1]
        np.testing.assert_allclose(tested.p_adjusted, expected, atol=1e-12, err_msg=f"{study} {metric}")
        assert (tested.family_size == len(tested)).all()
        alpha = 0.05
        direction = np.where(tested.p_adjusted < alpha, np.where(tested.hedges_g > 0, "amplified", "reduced"), "none")
        assert list(tested.direction) == list(direction)
        assert list(tested.direction_unadjusted) == list(
            np.where(tested.p_value < alpha, np.where(tested.hedges_g > 0, "amplified", "reduced"), "none"))
        families += 1
    assert families >= 10  # 2 studies x (cpi, di, 3 components)
    assert set(effects[effects.study == STUDY_MARTS_STUDY].p_adjust_method) == {"bh"}
