"""Cross-language statistics of a study (``marts.stats_models``): the mixed model, Holm-corrected per-language
tests and a permutation test of the language x alignment interaction, per (study, model, date, metric).

Why here and not in dbt: DuckDB has no mixed models or permutation machinery; statsmodels and numpy do. The
rows are long (one per estimate) so every analysis shares one table:

- ``mixed_model``: ``metric ~ aligned_share * C(language)`` with a random intercept per run group (REML,
  statsmodels ``MixedLM``). A run group is the replicate index within a language: the runs of one replicate
  share nothing else in this design, so the group variance is expected near 0 and is reported, not assumed.
  English (or the first language) is the reference level.
- ``language_slope``: per language, the OLS slope of the metric on aligned_share (scipy ``linregress``), its
  p-value and the Holm-corrected p across the study's languages (statsmodels ``multipletests``).
- ``interaction_permutation``: the F statistic of the interaction terms (full vs additive OLS model) against
  its Freedman-Lane permutation distribution (residuals of the additive model permuted, seeded), p =
  (1 + #{F* >= F}) / (1 + n_permutations).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

N_PERMUTATIONS = 2000
PERMUTATION_SEED = 20260304


@dataclass(frozen=True)
class EstimateRow:
    analysis: str
    term: str
    estimate: float | None
    std_error: float | None = None
    statistic: float | None = None
    p_value: float | None = None
    p_holm: float | None = None
    n_runs: int = 0
    note: str | None = None


def _design(frame: Any, languages: list[str], *, interaction: bool) -> np.ndarray:
    """Intercept, share, language dummies (first language = reference), and share x dummies."""
    share = frame["aligned_share"].to_numpy(float)
    columns = [np.ones(len(frame)), share]
    dummies = [(frame["language"] == lang).to_numpy(float) for lang in languages[1:]]
    columns += dummies
    if interaction:
        columns += [share * dummy for dummy in dummies]
    return np.column_stack(columns)


def _rss(x: np.ndarray, y: np.ndarray) -> float:
    beta, *_ = np.linalg.lstsq(x, y, rcond=None)
    residual = y - x @ beta
    return float(residual @ residual)


def interaction_permutation(frame: Any, metric: str, languages: list[str], *, n_permutations: int = N_PERMUTATIONS,
                            seed: int = PERMUTATION_SEED) -> tuple[float, float] | None:
    """F of the language x alignment interaction and its Freedman-Lane permutation p, or None if untestable."""
    y = frame[metric].to_numpy(float)
    reduced, full = _design(frame, languages, interaction=False), _design(frame, languages, interaction=True)
    df_extra = np.linalg.matrix_rank(full) - np.linalg.matrix_rank(reduced)  # ranks: a language with one share
    df_residual = len(y) - np.linalg.matrix_rank(full)                     # adds an all-zero column
    if df_extra == 0 or df_residual <= 0:
        return None

    def f_statistic(values: np.ndarray) -> float:
        rss_full = _rss(full, values)
        return ((_rss(reduced, values) - rss_full) / df_extra) / (rss_full / df_residual) if rss_full > 0 else np.inf

    observed = f_statistic(y)
    beta, *_ = np.linalg.lstsq(reduced, y, rcond=None)
    fitted, residual = reduced @ beta, y - reduced @ beta
    rng = np.random.default_rng(seed)
    exceed = sum(f_statistic(fitted + rng.permutation(residual)) >= observed - 1e-12 for _ in range(n_permutations))
    return float(observed), float((1 + exceed) / (1 + n_permutations))


def language_slopes(frame: Any, metric: str, languages: list[str]) -> list[EstimateRow]:
    """Per-language OLS slope on aligned_share with its p and the Holm-corrected p across languages."""
    from scipy import stats
    from statsmodels.stats.multitest import multipletests

    rows: list[EstimateRow] = []
    p_values: list[float | None] = []
    for language in languages:
        part = frame[frame["language"] == language]
        if part["aligned_share"].nunique() < 2 or len(part) < 3:
            rows.append(EstimateRow("language_slope", language, None, n_runs=len(part),
                                    note="fewer than 2 aligned shares or 3 runs"))
            p_values.append(None)
            continue
        fit = stats.linregress(part["aligned_share"].to_numpy(float), part[metric].to_numpy(float))
        rows.append(EstimateRow("language_slope", language, float(fit.slope), float(fit.stderr),
                                float(fit.slope / fit.stderr) if fit.stderr else None, float(fit.pvalue),
                                n_runs=len(part)))
        p_values.append(float(fit.pvalue))
    tested = [p for p in p_values if p is not None and not np.isnan(p)]
    if tested:
        holm = iter(multipletests(tested, method="holm")[1])
        rows = [EstimateRow(**{**row.__dict__, "p_holm": float(next(holm))})
                if p is not None and not np.isnan(p) else row for row, p in zip(rows, p_values, strict=True)]
    return rows


def mixed_model(frame: Any, metric: str, languages: list[str]) -> list[EstimateRow]:
    """REML fit of ``metric ~ aligned_share * C(language)`` with a random intercept per run group."""
    import statsmodels.formula.api as smf

    data = frame.assign(group=frame["language"] + ":" + frame["replicate"].astype(str),
                        language=frame["language"].astype("category").cat.reorder_categories(languages))
    formula = f"{metric} ~ aligned_share * C(language)" if len(languages) > 1 else f"{metric} ~ aligned_share"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            fit = smf.mixedlm(formula, data, groups=data["group"]).fit(reml=True)
        except (np.linalg.LinAlgError, ValueError) as exc:
            return [EstimateRow("mixed_model", "fit", None, n_runs=len(frame), note=f"not fitted: {exc}")]
    note = "; ".join(sorted({str(w.message).splitlines()[0][:120] for w in caught})) or None
    rows = [EstimateRow("mixed_model", term, float(fit.fe_params[term]), float(fit.bse_fe[term]),
                        float(fit.tvalues[term]), float(fit.pvalues[term]), n_runs=len(frame), note=note)
            for term in fit.fe_params.index]
    rows.append(EstimateRow("mixed_model", "group_variance", float(fit.cov_re.iloc[0, 0]), n_runs=len(frame),
                            note=note))
    return rows


def study_statistics(frame: Any, metric: str, *, n_permutations: int = N_PERMUTATIONS) -> list[EstimateRow]:
    """Every analysis for one (study, model, date) frame of complete runs without individuation."""
    frame = frame.dropna(subset=[metric])
    if frame.empty:
        return []
    present = sorted(frame["language"].unique())
    languages = ["en", *[lang for lang in present if lang != "en"]] if "en" in present else present
    rows = language_slopes(frame, metric, languages)
    if frame["aligned_share"].nunique() >= 2 and len(frame) > 2 * len(languages) + 1:
        rows += mixed_model(frame, metric, languages)
        tested = interaction_permutation(frame, metric, languages, n_permutations=n_permutations)
        if tested is not None:
            rows.append(EstimateRow("interaction_permutation", "C(language):aligned_share", None,
                                    statistic=tested[0], p_value=tested[1], n_runs=len(frame),
                                    note=f"Freedman-Lane, {n_permutations} permutations, seed {PERMUTATION_SEED}"))
    return rows


def build_stats_models(con: Any, *, n_permutations: int = N_PERMUTATIONS) -> int:
    """(Re)write ``marts.stats_models`` from ``marts.run_metrics``; returns the rows written."""
    import pandas as pd

    runs = con.execute("""
        select r.study, r.model, r.evaluation_date, r.synthetic, r.language, r.aligned_share, r.run_id,
               r.cpi, r.di, s.replicate
        from marts.run_metrics r join staging.stg_runs s using (run_id)
        where not r.individuation""").df()
    records = []
    keys = ["study", "model", "evaluation_date", "synthetic"]
    for key, frame in runs.groupby(keys, dropna=False):
        for metric in ("cpi", "di"):
            for row in study_statistics(frame, metric, n_permutations=n_permutations):
                records.append({**dict(zip(keys, key, strict=True)), "metric": metric, **row.__dict__})
    estimates = pd.DataFrame.from_records(records, columns=[*keys, "metric", *EstimateRow.__dataclass_fields__])
    estimates["evaluation_date"] = pd.to_datetime(estimates["evaluation_date"]).dt.date
    con.execute("create schema if not exists marts")
    con.execute("""create or replace table marts.stats_models as
                   select study, model, evaluation_date::date as evaluation_date, synthetic::boolean as synthetic,
                          metric, analysis, term, estimate::double as estimate, std_error::double as std_error,
                          statistic::double as statistic, p_value::double as p_value, p_holm::double as p_holm,
                          n_runs::integer as n_runs, note
                   from estimates""")
    return len(estimates)
