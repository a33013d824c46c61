"""The Study 3/4 and PDI marts against direct scipy computations on the same data (to 1e-6)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analysis.effects import t_two_sided_p
from tests.test_helpers.warehouses import STUDY_MARTS_LANGUAGES, STUDY_MARTS_MODELS, STUDY_MARTS_STUDY, dbt_test_design

pytestmark = [pytest.mark.slow, pytest.mark.integration, pytest.mark.xdist_group("dbt_warehouse")]
LANGUAGES = STUDY_MARTS_LANGUAGES
DESIGN = dbt_test_design(STUDY_MARTS_STUDY)
IN_STUDY = f"study = '{STUDY_MARTS_STUDY}'"


@pytest.fixture(scope="module")
def built(dbt_warehouse: Path) -> Path:
    """STUDY_MARTS_STUDY: six languages, two models, individuation on and off."""
    return dbt_warehouse


def _frame(path: Path, sql: str) -> pd.DataFrame:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.sql(sql).df()


def _g_ci_p(a: np.ndarray, b: np.ndarray) -> tuple[float, float, float, float]:
    """Hedges' g of b over a with the Hedges-Olkin CI, and scipy's pooled-variance t-test p."""
    n_a, n_b = len(a), len(b)
    pooled = np.sqrt(((n_a - 1) * a.var(ddof=1) + (n_b - 1) * b.var(ddof=1)) / (n_a + n_b - 2))
    g = (1 - 3 / (4 * (n_a + n_b) - 9)) * (b.mean() - a.mean()) / pooled
    half = 1.96 * np.sqrt((n_a + n_b) / (n_a * n_b) + g**2 / (2 * (n_a + n_b)))
    return g, g - half, g + half, stats.ttest_ind(b, a, equal_var=True).pvalue


def test_individuation_effects_match_scipy(built: Path) -> None:
    agents = _frame(built, f"select * from marts.agent_metrics where individuation and {IN_STUDY}")
    mart = _frame(built, f"select * from marts.individuation_effects where {IN_STUDY}")
    assert set(mart["metric"]) == {"cpi", "di", "conformity_share"}
    assert len(mart) == len(LANGUAGES) * len(STUDY_MARTS_MODELS) * len(DESIGN["aligned_shares"]) * 3  # x metrics
    checked = 0
    for row in mart.itertuples():
        cell = agents[(agents.language == row.language) & (agents.model == row.model)
                      & (agents.aligned_share == row.aligned_share)]
        values = cell[["individuated", row.metric]].dropna()
        ind = values[values.individuated][row.metric].to_numpy(float)
        other = values[~values.individuated][row.metric].to_numpy(float)
        assert (row.n_individuated, row.n_other) == (len(ind), len(other))
        assert row.mean_individuated == pytest.approx(ind.mean(), abs=1e-9)
        if len(ind) < 2 or len(other) < 2 or (ind.var(ddof=1) == 0 and other.var(ddof=1) == 0):
            assert pd.isna(row.hedges_g)
            continue
        g, low, high, p = _g_ci_p(other, ind)
        np.testing.assert_allclose([row.hedges_g, row.g_ci_low, row.g_ci_high, row.p_value], [g, low, high, p],
                                   atol=1e-6)
        checked += 1
    assert checked >= len(mart) // 2


def test_model_consistency_counts_each_languages_directions(built: Path) -> None:
    effects = _frame(built, f"select language, model, direction from marts.backfire_by_language where {IN_STUDY}")
    mart = _frame(built, f"select * from marts.model_consistency where {IN_STUDY}")
    assert len(mart) == len(effects) == len(LANGUAGES) * len(STUDY_MARTS_MODELS)
    for language, group in effects.groupby("language"):
        rows = mart[mart.language == language]
        directions = set(group.direction)
        if len(directions) == 1:
            expected = directions.pop()
        else:  # model-specific needs a backfiring model and a significant model x alignment interaction
            (interaction_p,) = set(rows.interaction_p)
            expected = "model-specific" if "amplified" in directions and interaction_p < 0.05 else "mixed"
        assert set(rows.language_direction) == {expected}
        assert set(rows.n_models) == {len(STUDY_MARTS_MODELS)}
        assert set(rows.direction_holds_across_models) == {expected in ("amplified", "reduced")}
        assert rows.set_index("model").direction.to_dict() == group.set_index("model").direction.to_dict()


def test_model_interaction_matches_statsmodels_anova(built: Path) -> None:
    import statsmodels.formula.api as smf
    from statsmodels.stats.anova import anova_lm

    runs = _frame(built, f"select language, model, aligned_share, cpi from marts.run_metrics "
                         f"where {IN_STUDY} and not individuation")
    mart = _frame(built, f"select distinct language, interaction_f, interaction_df1, interaction_df2, interaction_p "
                         f"from marts.model_consistency where {IN_STUDY}").set_index("language")
    for language, frame in runs.groupby("language"):
        full = smf.ols("cpi ~ aligned_share * C(model)", frame).fit()
        reduced = smf.ols("cpi ~ aligned_share + C(model)", frame).fit()
        table = anova_lm(reduced, full)
        row = mart.loc[language]
        assert (row.interaction_df1, row.interaction_df2) == (table.df_diff[1], full.df_resid)
        np.testing.assert_allclose([row.interaction_f, row.interaction_p], [table.F[1], table["Pr(>F)"][1]],
                                   rtol=1e-9)


def test_pdi_correlation_matches_scipy_pearson_and_spearman(built: Path) -> None:
    points = _frame(built, f"select * from marts.language_pdi_effects where hedges_g is not null and {IN_STUDY}")
    mart = _frame(built, f"select * from marts.pdi_correlation where {IN_STUDY}")
    assert len(mart) == len(STUDY_MARTS_MODELS) * 2  # models x metrics (cpi, di)
    for row in mart.itertuples():
        cell = points[(points.model == row.model) & (points.metric == row.metric)]
        assert row.n_languages == len(cell) == len(LANGUAGES)
        pearson = stats.pearsonr(cell.hedges_g, cell.pdi)
        interval = pearson.confidence_interval(0.95)
        spearman = stats.spearmanr(cell.hedges_g, cell.pdi)
        np.testing.assert_allclose(
            [row.pearson_r, row.p_value, row.r_ci_low, row.r_ci_high, row.spearman_rho, row.spearman_p_value],
            [pearson.statistic, pearson.pvalue, interval.low, interval.high, spearman.statistic, spearman.pvalue],
            atol=1e-6)


def test_paper_pdi_correlation_gives_p_064() -> None:
    r, n = 0.474, 16
    assert t_two_sided_p(r * np.sqrt((n - 2) / (1 - r**2)), n - 2) == pytest.approx(0.064, abs=5e-4)


def test_report_has_every_panel_and_valid_svg(built: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import xml.etree.ElementTree as ET

    from cli.main import main

    assert main(["report", "--out", str(tmp_path / "out"), "--db", str(built), "--studies", STUDY_MARTS_STUDY]) == 0
    assert f"{STUDY_MARTS_STUDY}: 5 figures" in capsys.readouterr().out
    html = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    svgs = [part.split("</svg>")[0] + "</svg>" for part in html.split("<svg")[1:]]
    assert len(svgs) == 5
    for svg in svgs:
        ET.fromstring("<svg" + svg)  # well-formed: a browser will draw it
    assert "SYNTHETIC DATA" not in html and "Replication scorecard" in html and "Cross-language statistics" in html
    assert "Sensitivity to the z reference" in html and "<h3>Components</h3>" in html and "Exclusions" in html
    for language in LANGUAGES:
        assert f">{language} · PDI" in html
    assert main(["report", "--out", str(tmp_path / "x"), "--db", str(built), "--studies", "nope"]) == 2
    assert "no effect rows for nope" in capsys.readouterr().err
