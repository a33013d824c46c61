"""marts.stats_models' statistics against direct scipy/statsmodels computations on the same data."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analysis.stats_models import build_stats_models, interaction_permutation, language_slopes, mixed_model

pytest.importorskip("statsmodels")


def _runs(interaction: float, seed: int = 3) -> pd.DataFrame:
    """CPI falls with alignment in en/de and rises (by ``interaction``) in ja; 6 replicates x 3 shares."""
    rng = np.random.default_rng(seed)
    rows = []
    for language, slope in (("en", -1.5), ("de", -1.0), ("ja", -1.5 + interaction)):
        for share in (0.0, 0.5, 1.0):
            for replicate in range(6):
                rows.append(dict(language=language, aligned_share=share, replicate=replicate,
                                 cpi=slope * share + rng.normal(0, 0.5), di=0.8 * share + rng.normal(0, 0.5)))
    return pd.DataFrame(rows)


def test_language_slopes_and_holm_match_scipy() -> None:
    frame = _runs(3.0)
    rows = {row.term: row for row in language_slopes(frame, "cpi", ["en", "de", "ja"])}
    raw = {}
    for language in ("en", "de", "ja"):
        part = frame[frame.language == language]
        fit = stats.linregress(part.aligned_share, part.cpi)
        raw[language] = fit.pvalue
        assert rows[language].estimate == pytest.approx(fit.slope, abs=1e-9)
        assert rows[language].p_value == pytest.approx(fit.pvalue, rel=1e-9)
    ordered = sorted(raw, key=raw.get)  # Holm by hand: step-down, monotone, capped at 1
    running = 0.0
    for rank, language in enumerate(ordered):
        running = max(running, min(1.0, (3 - rank) * raw[language]))
        assert rows[language].p_holm == pytest.approx(running, rel=1e-9)


def test_mixed_model_matches_a_direct_statsmodels_fit_with_english_as_reference() -> None:
    import statsmodels.formula.api as smf

    frame = _runs(3.0)
    rows = {row.term: row for row in mixed_model(frame, "cpi", ["en", "de", "ja"])}
    data = frame.assign(group=frame.language + ":" + frame.replicate.astype(str))
    direct = smf.mixedlm("cpi ~ aligned_share * C(language, Treatment('en'))", data, groups=data.group).fit(reml=True)
    for term, value in direct.fe_params.items():
        ours = term.replace(", Treatment('en')", "")
        assert rows[ours].estimate == pytest.approx(value, abs=1e-6)
        assert rows[ours].std_error == pytest.approx(direct.bse_fe[term], abs=1e-6)
    planted = rows["aligned_share:C(language)[T.ja]"]  # the planted slope difference is 3.0
    assert planted.estimate > 1.5 and planted.p_value < 0.001


def test_interaction_f_matches_the_nested_ols_f_test_and_the_permutation_p_is_seeded() -> None:
    import statsmodels.formula.api as smf
    from statsmodels.stats.anova import anova_lm

    for interaction, significant in ((3.0, True), (0.0, False)):
        frame = _runs(interaction)
        f, p = interaction_permutation(frame, "cpi", ["en", "de", "ja"], n_permutations=999)
        reduced = smf.ols("cpi ~ aligned_share + C(language)", frame).fit()
        full = smf.ols("cpi ~ aligned_share * C(language)", frame).fit()
        assert f == pytest.approx(anova_lm(reduced, full)["F"].iloc[1], rel=1e-9)
        assert (p < 0.01) == significant
        assert interaction_permutation(frame, "cpi", ["en", "de", "ja"], n_permutations=999) == (f, p)


def test_build_writes_long_rows_per_study_model_and_metric() -> None:
    frame = _runs(3.0).assign(study="s", model="m", evaluation_date=None, synthetic=True, individuation=False)
    frame["run_id"] = [f"r{i}" for i in range(len(frame))]
    con = duckdb.connect()
    con.execute("create schema marts; create schema staging")
    con.register("frame", frame)
    con.execute("create table marts.run_metrics as select run_id, study, model, evaluation_date::date as "
                "evaluation_date, synthetic, language, aligned_share, individuation, cpi, di from frame")
    con.execute("create table staging.stg_runs as select run_id, replicate from frame")
    written = build_stats_models(con, n_permutations=199)
    table = con.sql("select metric, analysis, count(*) as n from marts.stats_models group by all order by all").df()
    counts = {(r.metric, r.analysis): r.n for r in table.itertuples()}
    assert counts[("cpi", "language_slope")] == 3 and counts[("cpi", "interaction_permutation")] == 1
    assert counts[("di", "mixed_model")] == 6 + 1  # intercept, share, 2 languages, 2 interactions + group variance
    assert written == sum(counts.values())
    holm = con.execute("select count(*) from marts.stats_models where analysis = 'language_slope' "
                       "and p_holm >= p_value").fetchone()[0]
    assert holm == 6
