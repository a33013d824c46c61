"""Cross-language statistics of a study (``marts.stats_models``): models that match the design (runs of 10
agents per language and aligned share), Holm-corrected per-language tests and a permutation test of the
language x alignment interaction, per (study, model, date, metric).

Why here and not in dbt: DuckDB has no mixed models or permutation machinery; statsmodels and numpy do. The
rows are long (one per estimate) so every analysis shares one table:

- ``run_level_ols`` (CPI): ``cpi ~ aligned_share * C(language)`` by OLS with runs as units. CPI is a run-level
  measure, so there is no nesting left to model.
- ``agent_mixed_model`` (DI): ``di ~ aligned_share * C(language)`` on the agents of ``marts.agent_metrics``
  with a random intercept per run (REML, statsmodels ``MixedLM``): agents of one run share a conversation,
  so they are not independent. Reports the fixed effects, the run-intercept and residual variances and the
  ICC. A fit that raises, does not converge, or has non-finite or untrustworthy standard errors away from
  the boundary is replaced by ``agent_cluster_robust_ols`` (OLS, standard errors clustered by run) with the
  reason in ``note``. A run variance estimated at 0 is a legitimate REML result (runs add nothing beyond
  their agents): the mixed fit is kept and the boundary is noted.
- ``language_slope``: per language, the OLS slope of the run-level metric on aligned_share (scipy
  ``linregress``), its p-value and the Holm-corrected p across the study's languages.
- ``interaction_permutation``: the F statistic of the interaction terms (full vs additive OLS model, runs as
  units) against its Freedman-Lane permutation distribution (residuals of the additive model permuted,
  seeded), p = (1 + #{F* >= F}) / (1 + n_permutations).

English (or the alphabetically first language) is the reference level of every model: ``aligned_share`` is
its slope and ``aligned_share:C(language)[T.xx]`` each language's difference from it.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

N_PERMUTATIONS = 2000
PERMUTATION_SEED = 20260304
BOUNDARY_WARNING = "The MLE may be on the boundary of the parameter space."
HESSIAN_WARNING = "The Hessian matrix at the estimated parameter values is not positive definite."
SINGULAR_RE_WARNING = "The random effects covariance matrix is singular."


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
    language: str | None = None
    converged: bool | None = None
    n_agents: int | None = None


def reference_order(languages: Any) -> list[str]:
    """English first when present (the reference level), then the others alphabetically."""
    present = sorted(set(languages))
    return ["en", *[lang for lang in present if lang != "en"]] if "en" in present else present


def term_language(term: str, reference: str) -> str | None:
    """The language a fixed-effect term is about: the contrasted one, else the reference level."""
    found = re.search(r"C\(language\)\[T\.([^\]]+)\]", term)
    if found:
        return found.group(1)
    return reference if term in ("Intercept", "aligned_share") else None


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
                                    note="fewer than 2 aligned shares or 3 runs", language=language))
            p_values.append(None)
            continue
        fit = stats.linregress(part["aligned_share"].to_numpy(float), part[metric].to_numpy(float))
        rows.append(EstimateRow("language_slope", language, float(fit.slope), float(fit.stderr),
                                float(fit.slope / fit.stderr) if fit.stderr else None, float(fit.pvalue),
                                n_runs=len(part), language=language))
        p_values.append(float(fit.pvalue))
    tested = [p for p in p_values if p is not None and not np.isnan(p)]
    if tested:
        holm = iter(multipletests(tested, method="holm")[1])
        rows = [EstimateRow(**{**row.__dict__, "p_holm": float(next(holm))})
                if p is not None and not np.isnan(p) else row for row, p in zip(rows, p_values, strict=True)]
    return rows


def _model_data(frame: Any, languages: list[str]) -> tuple[Any, str, str | None]:
    """The frame restricted to languages with 2+ aligned shares (a language with one share has no slope, and
    its interaction column would be all zero), language as a categorical with the reference level first, the
    right-hand side of the formula and a note naming any language left out."""
    shares = frame.groupby("language")["aligned_share"].nunique()
    kept = [lang for lang in languages if shares.get(lang, 0) >= 2]
    left_out = [lang for lang in languages if lang not in kept]
    data = frame[frame["language"].isin(kept)]
    data = data.assign(language=data["language"].astype("category").cat.set_categories(kept))
    rhs = "aligned_share * C(language)" if len(kept) > 1 else "aligned_share"
    note = f"left out (one aligned share): {', '.join(left_out)}" if left_out else None
    return data, rhs, note


def _join_notes(*notes: str | None) -> str | None:
    return "; ".join(note for note in notes if note) or None


def run_level_ols(frame: Any, metric: str, languages: list[str]) -> list[EstimateRow]:
    """OLS of ``metric ~ aligned_share * C(language)`` with runs as units (CPI is measured per run)."""
    import statsmodels.formula.api as smf

    data, rhs, note = _model_data(frame, languages)
    if data.empty:
        return [EstimateRow("run_level_ols", "fit", None, n_runs=len(frame), note=note)]
    reference = data["language"].cat.categories[0]
    fit = smf.ols(f"{metric} ~ {rhs}", data).fit()
    note = _join_notes(f"OLS, runs as units, reference level {reference}", note)
    return [EstimateRow("run_level_ols", term, float(fit.params[term]), float(fit.bse[term]),
                        float(fit.tvalues[term]), float(fit.pvalues[term]), n_runs=len(data), note=note,
                        language=term_language(term, reference))
            for term in fit.params.index]


def reml_variance_ratio(model: Any) -> float:
    """The REML estimate of run variance / residual variance of a random-intercept ``MixedLM`` model, from
    its profile likelihood in closed form (group sums, no loop over runs); 0 when that is the maximum.

    Why: statsmodels' own start (and its gradient optimizers) stall near a run variance of 0, a common case
    here, and each of its likelihood evaluations loops over the runs in Python; started at this ratio its
    optimizer converges in one or a few steps, so the estimates are still statsmodels'."""
    import pandas as pd
    from scipy import optimize

    x, y = np.asarray(model.exog, float), np.asarray(model.endog, float)
    codes = pd.factorize(np.asarray(model.groups))[0]
    sizes = np.bincount(codes).astype(float)
    x_sums = np.zeros((len(sizes), x.shape[1]))
    np.add.at(x_sums, codes, x)
    y_sums = np.bincount(codes, weights=y)
    xx, xy, yy, df = x.T @ x, x.T @ y, float(y @ y), len(y) - x.shape[1]

    def minus_loglike(ratio: float) -> float:  # -2 x REML log-likelihood, profiled over sigma^2 and beta
        shrink = ratio / (1 + ratio * sizes)
        xvx = xx - (x_sums * shrink[:, None]).T @ x_sums
        xvy = xy - (x_sums * shrink[:, None]).T @ y_sums
        rss = yy - shrink @ (y_sums * y_sums) - xvy @ np.linalg.solve(xvx, xvy)
        return float(np.log1p(ratio * sizes).sum() + np.linalg.slogdet(xvx)[1] + df * np.log(rss))

    found = optimize.minimize_scalar(lambda log_ratio: minus_loglike(float(np.exp(log_ratio))), bounds=(-20, 10),
                                     method="bounded", options={"xatol": 1e-8})
    ratio = float(np.exp(found.x))
    return 0.0 if minus_loglike(0.0) <= minus_loglike(ratio) else ratio


def _fit_mixed(formula: str, data: Any) -> Any:
    """The REML fit (statsmodels' default optimizers), started at the profile REML ratio; apart so that
    tests can make it fail."""
    import statsmodels.formula.api as smf
    from statsmodels.regression.mixed_linear_model import MixedLMParams

    model = smf.mixedlm(formula, data, groups=data["run_id"])
    ratio = max(reml_variance_ratio(model), 1e-10)  # exactly 0 makes statsmodels' score singular
    start = MixedLMParams.from_components(np.zeros(model.k_fe), cov_re=np.array([[ratio]]))
    return model.fit(reml=True, start_params=start)


def agent_mixed_model(frame: Any, metric: str, languages: list[str]) -> list[EstimateRow]:
    """REML fit of ``metric ~ aligned_share * C(language)`` on agents with a random intercept per run, or the
    cluster-robust OLS fallback when the fit cannot be trusted (see the module docstring for the rule)."""
    data, rhs, left_out = _model_data(frame, languages)
    if data.empty:
        return [EstimateRow("agent_mixed_model", "fit", None, n_runs=frame["run_id"].nunique(), note=left_out,
                            n_agents=len(frame))]
    formula = f"{metric} ~ {rhs}"
    n_runs, n_agents, reference = data["run_id"].nunique(), len(data), data["language"].cat.categories[0]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            fit = _fit_mixed(formula, data)
        except (np.linalg.LinAlgError, ValueError, FloatingPointError, RuntimeError) as exc:
            fit, failure = None, f"MixedLM failed: {str(exc).splitlines()[0][:160]}"
    messages = sorted({str(w.message).splitlines()[0][:160] for w in caught})
    if fit is not None:
        run_variance = float(fit.cov_re.iloc[0, 0])
        boundary = BOUNDARY_WARNING in messages or SINGULAR_RE_WARNING in messages or run_variance <= 0
        finite = bool(np.all(np.isfinite(fit.fe_params)) and np.all(np.isfinite(fit.bse_fe)))
        failure = ("MixedLM did not converge" if not fit.converged
                   else "MixedLM standard errors not finite" if not finite
                   else "MixedLM Hessian not positive definite away from the boundary"
                   if HESSIAN_WARNING in messages and not boundary else None)
    if failure is not None:
        return cluster_robust_ols(data, formula, reference, _join_notes(failure, *messages, left_out))
    kept = [m for m in messages if m not in (BOUNDARY_WARNING, SINGULAR_RE_WARNING, HESSIAN_WARNING)]
    note = _join_notes(f"REML, random intercept per run, Wald z, reference level {reference}",
                       f"run variance at or near the boundary 0 ({run_variance:.3g}): the mixed fit is kept" if boundary
                       else None,
                       *kept, left_out)
    common = dict(n_runs=n_runs, n_agents=n_agents, converged=True, note=note)
    rows = [EstimateRow("agent_mixed_model", term, float(fit.fe_params[term]), float(fit.bse_fe[term]),
                        float(fit.tvalues[term]), float(fit.pvalues[term]),
                        language=term_language(term, reference), **common)
            for term in fit.fe_params.index]
    residual_variance = float(fit.scale)
    icc = run_variance / (run_variance + residual_variance) if run_variance + residual_variance > 0 else None
    rows += [EstimateRow("agent_mixed_model", "run_variance", run_variance, **common),
             EstimateRow("agent_mixed_model", "residual_variance", residual_variance, **common),
             EstimateRow("agent_mixed_model", "icc", icc, **common)]
    return rows


def cluster_robust_ols(data: Any, formula: str, reference: str, reason: str | None) -> list[EstimateRow]:
    """OLS on agents with standard errors clustered by run (statsmodels CR1, normal p): the fallback."""
    import pandas as pd
    import statsmodels.formula.api as smf

    groups = pd.factorize(data["run_id"])[0]
    fit = smf.ols(formula, data).fit(cov_type="cluster", cov_kwds={"groups": groups})
    note = _join_notes("fallback: OLS with standard errors clustered by run", reason)
    return [EstimateRow("agent_cluster_robust_ols", term, float(fit.params[term]), float(fit.bse[term]),
                        float(fit.tvalues[term]), float(fit.pvalues[term]), n_runs=int(data["run_id"].nunique()),
                        note=note, language=term_language(term, reference), converged=False,
                        n_agents=len(data))
            for term in fit.params.index]


def _enough(frame: Any, languages: list[str]) -> bool:
    """Two shares and more runs than the full model's coefficients, so every model has residual df."""
    return frame["aligned_share"].nunique() >= 2 and frame["run_id"].nunique() > 2 * len(languages) + 1


def study_statistics(frame: Any, metric: str, *, agents: Any = None,
                     n_permutations: int = N_PERMUTATIONS) -> list[EstimateRow]:
    """Every analysis of one metric for one (study, model, date) frame of complete runs without
    individuation; ``agents`` (the same runs' agents) feeds the agent-level DI model."""
    frame = frame.dropna(subset=[metric])
    if frame.empty:
        return []
    languages = reference_order(frame["language"])
    rows = language_slopes(frame, metric, languages)
    if not _enough(frame, languages):
        return rows
    if metric == "cpi":
        rows += run_level_ols(frame, metric, languages)
    elif agents is not None:
        agents = agents.dropna(subset=[metric])
        agent_languages = reference_order(agents["language"]) if not agents.empty else []
        if (not agents.empty and _enough(agents, agent_languages)
                and len(agents) > agents["run_id"].nunique()):
            rows += agent_mixed_model(agents, metric, agent_languages)
    tested = interaction_permutation(frame, metric, languages, n_permutations=n_permutations)
    if tested is not None:
        rows.append(EstimateRow("interaction_permutation", "C(language):aligned_share", None,
                                statistic=tested[0], p_value=tested[1], n_runs=len(frame),
                                note=f"Freedman-Lane, {n_permutations} permutations, seed {PERMUTATION_SEED}"))
    return rows


def build_stats_models(con: Any, *, n_permutations: int = N_PERMUTATIONS) -> int:
    """(Re)write ``marts.stats_models`` from ``marts.run_metrics`` and ``marts.agent_metrics``; returns the
    rows written."""
    import pandas as pd

    keys = ["study", "model", "evaluation_date", "synthetic"]
    cell = ("concat_ws('|', r.study, r.model, coalesce(r.evaluation_date::varchar, ''), r.synthetic::varchar) "
            "as cell")  # one string per (study, model, date, synthetic): null dates match too
    runs = con.execute(f"""
        select r.study, r.model, r.evaluation_date, r.synthetic, r.language, r.aligned_share, r.run_id,
               r.cpi, r.di, {cell}
        from marts.run_metrics r where not r.individuation
        order by r.run_id""").df()
    # A fixed row order, so a rebuild (an imported bundle) permutes the same residuals with the seeded generator
    # (DuckDB returns rows in no fixed order; the permutation p moved by one permutation between rebuilds).
    agents = con.execute(f"""
        select r.language, r.aligned_share, r.run_id, a.agent_idx, a.di, {cell}
        from marts.agent_metrics a join marts.run_metrics r using (run_id)
        where not r.individuation and a.di is not null
        order by a.run_id, a.agent_idx""").df()
    agent_cells = dict(tuple(agents.groupby("cell")))
    records = []
    for _, frame in runs.groupby("cell"):
        key = frame.iloc[0][keys].to_dict()
        for metric in ("cpi", "di"):
            for row in study_statistics(frame, metric, agents=agent_cells.get(frame["cell"].iloc[0]),
                                        n_permutations=n_permutations):
                records.append({**key, "metric": metric, **row.__dict__})
    estimates = pd.DataFrame.from_records(records, columns=[*keys, "metric", *EstimateRow.__dataclass_fields__])
    estimates["evaluation_date"] = pd.to_datetime(estimates["evaluation_date"]).dt.date
    con.execute("create schema if not exists marts")
    con.execute("""create or replace table marts.stats_models as
                   select study, model, evaluation_date::date as evaluation_date, synthetic::boolean as synthetic,
                          metric, analysis, term, language::varchar as language, estimate::double as estimate,
                          std_error::double as std_error, statistic::double as statistic,
                          p_value::double as p_value, p_holm::double as p_holm, n_runs::integer as n_runs,
                          n_agents::integer as n_agents, converged::boolean as converged, note
                   from estimates""")
    return len(estimates)
