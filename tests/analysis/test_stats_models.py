"""marts.stats_models' statistics against direct scipy/statsmodels computations on the same data."""

from __future__ import annotations

import warnings
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pytest
from scipy import stats

import analysis.stats_models as sm_module
from analysis.stats_models import (
    agent_mixed_model,
    build_stats_models,
    interaction_permutation,
    language_slopes,
    reml_variance_ratio,
    run_level_ols,
)

pytest.importorskip("statsmodels")

LANGUAGES = ["en", "de", "ja"]
RUN_SD, RESIDUAL_SD = 0.8, 0.5
# DI truth: en intercept 0.2 and slope 0.8; de and ja shift the intercept and the slope.
FIXED = {"Intercept": 0.2, "aligned_share": 0.8, "C(language)[T.de]": -0.3, "C(language)[T.ja]": 0.4,
         "aligned_share:C(language)[T.de]": 0.5, "aligned_share:C(language)[T.ja]": -1.6}


def _runs(interaction: float, seed: int = 3) -> pd.DataFrame:
    """CPI falls with alignment in en/de and rises (by ``interaction``) in ja; 6 replicates x 3 shares."""
    rng = np.random.default_rng(seed)
    rows = []
    for language, slope in (("en", -1.5), ("de", -1.0), ("ja", -1.5 + interaction)):
        for share in (0.0, 0.5, 1.0):
            for replicate in range(6):
                rows.append(dict(language=language, aligned_share=share, replicate=replicate,
                                 run_id=f"{language}-{share}-{replicate}",
                                 cpi=slope * share + rng.normal(0, 0.5), di=0.8 * share + rng.normal(0, 0.5)))
    return pd.DataFrame(rows)


def _agents(seed: int = 11, runs_per_cell: int = 20) -> pd.DataFrame:
    """3 languages x 2 shares x 20 runs x 10 agents: run intercepts sd 0.8, agent residuals sd 0.5."""
    rng = np.random.default_rng(seed)
    rows = []
    for language in LANGUAGES:
        for share in (0.0, 1.0):
            for replicate in range(runs_per_cell):
                mean = FIXED["Intercept"] + FIXED["aligned_share"] * share
                if language != "en":
                    mean += FIXED[f"C(language)[T.{language}]"]
                    mean += FIXED[f"aligned_share:C(language)[T.{language}]"] * share
                run_effect = rng.normal(0, RUN_SD)
                for agent in range(10):
                    rows.append(dict(language=language, aligned_share=share, run_id=f"{language}-{share}-{replicate}",
                                     agent_idx=agent, di=mean + run_effect + rng.normal(0, RESIDUAL_SD)))
    return pd.DataFrame(rows)


def _direct_mixed(data: pd.DataFrame, *, start: bool = True) -> Any:
    """statsmodels' REML fit, from the same start as ours (the profile REML ratio) or its own default."""
    import statsmodels.formula.api as smf
    from statsmodels.regression.mixed_linear_model import MixedLMParams

    model = smf.mixedlm("di ~ aligned_share * C(language, Treatment('en'))", data, groups=data.run_id)
    if not start:
        return model.fit(reml=True)
    ratio = max(reml_variance_ratio(model), 1e-10)
    return model.fit(reml=True, start_params=MixedLMParams.from_components(np.zeros(6), np.array([[ratio]])))


def _ours(term: str) -> str:
    return term.replace(", Treatment('en')", "")


def test_language_slopes_and_holm_match_scipy() -> None:
    frame = _runs(3.0)
    rows = {row.term: row for row in language_slopes(frame, "cpi", LANGUAGES)}
    raw = {}
    for language in LANGUAGES:
        part = frame[frame.language == language]
        fit = stats.linregress(part.aligned_share, part.cpi)
        raw[language] = fit.pvalue
        assert rows[language].estimate == pytest.approx(fit.slope, abs=1e-9)
        assert rows[language].p_value == pytest.approx(fit.pvalue, rel=1e-9)
        assert rows[language].language == language
    ordered = sorted(raw, key=raw.get)  # Holm by hand: step-down, monotone, capped at 1
    running = 0.0
    for rank, language in enumerate(ordered):
        running = max(running, min(1.0, (3 - rank) * raw[language]))
        assert rows[language].p_holm == pytest.approx(running, rel=1e-9)


def test_run_level_cpi_model_is_statsmodels_ols_with_english_as_reference() -> None:
    import statsmodels.formula.api as smf

    frame = _runs(3.0)
    rows = {row.term: row for row in run_level_ols(frame.sample(frac=1, random_state=1), "cpi", LANGUAGES)}
    direct = smf.ols("cpi ~ aligned_share * C(language, Treatment('en'))", frame).fit()
    assert {_ours(term) for term in direct.params.index} == set(rows)
    for term in direct.params.index:
        row = rows[_ours(term)]
        assert row.analysis == "run_level_ols" and row.n_runs == len(frame)
        assert row.estimate == pytest.approx(direct.params[term], abs=1e-10)
        assert row.std_error == pytest.approx(direct.bse[term], abs=1e-10)
        assert row.statistic == pytest.approx(direct.tvalues[term], abs=1e-8)
        assert row.p_value == pytest.approx(direct.pvalues[term], abs=1e-12)
    assert rows["aligned_share"].language == "en" and rows["aligned_share:C(language)[T.ja]"].language == "ja"
    planted = rows["aligned_share:C(language)[T.ja]"]  # the planted slope difference is 3.0
    assert planted.estimate > 1.5 and planted.p_value < 0.001


def test_agent_mixed_model_equals_statsmodels_and_recovers_the_variance_components() -> None:
    data = _agents()
    rows = {row.term: row for row in agent_mixed_model(data, "di", LANGUAGES)}
    direct = _direct_mixed(data)
    assert direct.converged
    for term in direct.fe_params.index:
        row = rows[_ours(term)]
        assert row.analysis == "agent_mixed_model" and row.converged is True
        assert (row.n_runs, row.n_agents) == (120, 1200)
        assert row.estimate == pytest.approx(direct.fe_params[term], abs=1e-8)
        assert row.std_error == pytest.approx(direct.bse_fe[term], abs=1e-8)
        assert row.p_value == pytest.approx(direct.pvalues[term], abs=1e-8)
        assert row.estimate == pytest.approx(FIXED[_ours(term)], abs=4 * row.std_error)
    run_variance, residual_variance = float(direct.cov_re.iloc[0, 0]), float(direct.scale)
    assert rows["run_variance"].estimate == pytest.approx(run_variance, abs=1e-8)
    assert rows["residual_variance"].estimate == pytest.approx(residual_variance, abs=1e-8)
    assert rows["icc"].estimate == pytest.approx(run_variance / (run_variance + residual_variance), abs=1e-8)
    # the truth: 0.64 between runs (120 runs: sd of the estimate ~0.09), 0.25 within (1080 df: ~0.011)
    assert rows["run_variance"].estimate == pytest.approx(RUN_SD**2, abs=0.25)
    assert rows["residual_variance"].estimate == pytest.approx(RESIDUAL_SD**2, abs=0.04)
    assert rows["icc"].estimate == pytest.approx(0.64 / 0.89, abs=0.08)
    # statsmodels from its own start reaches the same optimum, to its optimizer's tolerance
    default = _direct_mixed(data, start=False)
    assert default.converged and default.llf <= direct.llf + 1e-9
    assert float(default.cov_re.iloc[0, 0]) == pytest.approx(run_variance, rel=1e-4)
    for term in default.fe_params.index:
        assert rows[_ours(term)].estimate == pytest.approx(default.fe_params[term], abs=1e-6)
        assert rows[_ours(term)].std_error == pytest.approx(default.bse_fe[term], rel=1e-4)
    # agents are not independent: naive OLS on agents understates the SE of a between-run contrast
    import statsmodels.formula.api as smf
    naive = smf.ols("di ~ aligned_share * C(language, Treatment('en'))", data).fit()
    assert rows["aligned_share"].std_error > 2 * naive.bse["aligned_share"]


def test_run_variance_on_the_boundary_keeps_the_mixed_fit_with_a_note() -> None:
    rng = np.random.default_rng(5)
    data = _agents().assign(di=lambda d: d.aligned_share * 0.5 + rng.normal(0, 0.5, len(d)))  # no run effect
    rows = {row.term: row for row in agent_mixed_model(data, "di", LANGUAGES)}
    assert all(row.analysis == "agent_mixed_model" and row.converged for row in rows.values())
    assert rows["run_variance"].estimate < 0.01
    assert "boundary" in rows["aligned_share"].note
    # statsmodels' default start stalls here (its gradient optimizers do not converge); a derivative-free
    # optimizer from its start agrees with ours
    import statsmodels.formula.api as smf
    model = smf.mixedlm("di ~ aligned_share * C(language, Treatment('en'))", data, groups=data.run_id)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # statsmodels' boundary warning, expected here
        powell = model.fit(reml=True, method=["powell"])
    assert powell.converged
    assert rows["run_variance"].estimate == pytest.approx(float(powell.cov_re.iloc[0, 0]), abs=1e-5)
    assert rows["aligned_share"].std_error == pytest.approx(powell.bse_fe["aligned_share"], rel=1e-4)


def test_the_profile_reml_ratio_is_zero_when_runs_add_nothing() -> None:
    import statsmodels.formula.api as smf

    data = _agents(runs_per_cell=5)
    within = data.di - data.groupby("run_id").di.transform("mean")  # every run mean 0: no run variance at all
    model = smf.mixedlm("di ~ 1", data.assign(di=within), groups=data.run_id)
    assert reml_variance_ratio(model) == 0.0


def _assert_cluster_fallback(rows: list, data: pd.DataFrame, reason: str) -> None:
    import statsmodels.formula.api as smf

    direct = smf.ols("di ~ aligned_share * C(language, Treatment('en'))", data).fit(
        cov_type="cluster", cov_kwds={"groups": pd.factorize(data.run_id)[0]})
    by_term = {row.term: row for row in rows}
    assert set(by_term) == {_ours(term) for term in direct.params.index}  # no variance rows
    for term in direct.params.index:
        row = by_term[_ours(term)]
        assert row.analysis == "agent_cluster_robust_ols" and row.converged is False
        assert reason in row.note and "clustered by run" in row.note
        assert row.estimate == pytest.approx(direct.params[term], abs=1e-10)
        assert row.std_error == pytest.approx(direct.bse[term], abs=1e-10)
        assert row.p_value == pytest.approx(direct.pvalues[term], abs=1e-10)


def test_a_failing_mixed_fit_falls_back_to_cluster_robust_ols(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(formula: str, data: pd.DataFrame) -> None:
        raise np.linalg.LinAlgError("Singular matrix")

    monkeypatch.setattr(sm_module, "_fit_mixed", fail)
    data = _agents(runs_per_cell=5)
    _assert_cluster_fallback(agent_mixed_model(data, "di", LANGUAGES), data, "MixedLM failed: Singular matrix")


def test_a_non_converged_mixed_fit_falls_back_to_cluster_robust_ols(monkeypatch: pytest.MonkeyPatch) -> None:
    real = sm_module._fit_mixed

    def not_converged(formula: str, data: pd.DataFrame) -> Any:
        fit = real(formula, data)
        fit._results.converged = False
        return fit

    monkeypatch.setattr(sm_module, "_fit_mixed", not_converged)
    data = _agents(runs_per_cell=5)
    _assert_cluster_fallback(agent_mixed_model(data, "di", LANGUAGES), data, "MixedLM did not converge")


def test_interaction_f_matches_the_nested_ols_f_test_and_the_permutation_p_is_seeded() -> None:
    import statsmodels.formula.api as smf
    from statsmodels.stats.anova import anova_lm

    for interaction, significant in ((3.0, True), (0.0, False)):
        frame = _runs(interaction)
        f, p = interaction_permutation(frame, "cpi", LANGUAGES, n_permutations=999)
        reduced = smf.ols("cpi ~ aligned_share + C(language)", frame).fit()
        full = smf.ols("cpi ~ aligned_share * C(language)", frame).fit()
        assert f == pytest.approx(anova_lm(reduced, full)["F"].iloc[1], rel=1e-9)
        assert (p < 0.01) == significant
        assert interaction_permutation(frame, "cpi", LANGUAGES, n_permutations=999) == (f, p)


def test_build_writes_long_rows_per_study_model_and_metric() -> None:
    agents = _agents(runs_per_cell=6)
    runs = agents.groupby(["run_id", "language", "aligned_share"], as_index=False)["di"].mean()
    runs = runs.assign(cpi=-runs.di, study="s", model="m", evaluation_date=None, synthetic=True,
                       individuation=False)
    con = duckdb.connect()
    con.execute("create schema marts")
    con.register("runs", runs)
    con.register("agents", agents)
    con.execute("create table marts.run_metrics as select run_id, study, model, evaluation_date::date as "
                "evaluation_date, synthetic, language, aligned_share, individuation, cpi, di from runs")
    con.execute("create table marts.agent_metrics as select run_id, agent_idx, di from agents")
    written = build_stats_models(con, n_permutations=199)
    table = con.sql("select metric, analysis, count(*) as n from marts.stats_models group by all order by all").df()
    counts = {(r.metric, r.analysis): r.n for r in table.itertuples()}
    assert counts == {("cpi", "language_slope"): 3, ("cpi", "interaction_permutation"): 1,
                      ("cpi", "run_level_ols"): 6, ("di", "language_slope"): 3,
                      ("di", "interaction_permutation"): 1,
                      ("di", "agent_mixed_model"): 6 + 3}  # 6 fixed effects + run, residual variance, ICC
    assert written == sum(counts.values())
    holm = con.execute("select count(*) from marts.stats_models where analysis = 'language_slope' "
                       "and p_holm >= p_value").fetchone()[0]
    assert holm == 6
    mixed = con.execute("select distinct n_runs, n_agents, converged from marts.stats_models "
                        "where analysis = 'agent_mixed_model'").fetchall()
    assert mixed == [(36, 360, True)]
    languages = dict(con.execute("select term, language from marts.stats_models "
                                 "where analysis = 'run_level_ols'").fetchall())
    assert languages["Intercept"] == "en" and languages["C(language)[T.de]"] == "de"
    assert con.execute("select evaluation_date from marts.stats_models limit 1").fetchone() == (None,)


def test_a_language_with_one_aligned_share_is_left_out_of_the_models_and_named() -> None:
    frame = _runs(3.0)
    frame = frame[(frame.language != "en") | (frame.aligned_share == 0.0)]  # English: no slope to estimate
    rows = {row.term: row for row in run_level_ols(frame, "cpi", LANGUAGES)}
    assert set(rows) == {"Intercept", "aligned_share", "C(language)[T.ja]", "aligned_share:C(language)[T.ja]"}
    assert rows["aligned_share"].language == "de"  # the reference level is now the first language kept
    assert rows["Intercept"].n_runs == 36 and "left out (one aligned share): en" in rows["Intercept"].note
