"""Planted-effect recovery under the analysis the marts are moving to (issue 14), computed from run measures.

Within-language z-scores (population: study x language x model x evaluation date), CPI = z(mono) + z(path)
- z(prot) and DI = z(mono) + z(prot) - z(path) per run, Hedges' g of the runs at the highest vs the lowest
aligned share (runs without individuation), a pooled-variance t test, Holm-adjusted across the languages per
metric, and a direction only where the adjusted p is under 0.05. Once ``marts.backfire_by_language`` and
``marts.dissociation_by_language`` carry these columns, ``recovered_effects`` can read them instead.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

COMPONENTS = ("monologue_ratio", "pathology_rate", "protective_rate")
CELL = ["study", "language", "model", "evaluation_date"]
ALPHA = 0.05


def _z(values: pd.Series) -> pd.Series:
    sd = values.std(ddof=1)
    return (values - values.mean()) / sd if sd and not math.isnan(sd) else values * 0.0


def with_indices(runs: pd.DataFrame) -> pd.DataFrame:
    """Runs with ``z_<component>``, ``cpi`` and ``di``: z-scores taken within each cell (so within a language)."""
    runs = runs.copy()
    runs["evaluation_date"] = runs["evaluation_date"].astype(object).where(runs["evaluation_date"].notna(), "none")
    for column in COMPONENTS:
        runs[f"z_{column}"] = runs.groupby(CELL)[column].transform(_z)
    runs["cpi"] = runs.z_monologue_ratio + runs.z_pathology_rate - runs.z_protective_rate
    runs["di"] = runs.z_monologue_ratio + runs.z_protective_rate - runs.z_pathology_rate
    return runs


def hedges_g(high: np.ndarray, low: np.ndarray) -> tuple[float, float]:
    """Bias-corrected standardized mean difference (high - low) and the pooled-variance two-sided t-test p."""
    from scipy import stats

    n1, n0 = len(high), len(low)
    pooled = math.sqrt(((n1 - 1) * high.var(ddof=1) + (n0 - 1) * low.var(ddof=1)) / (n1 + n0 - 2))
    d = (high.mean() - low.mean()) / pooled if pooled else 0.0
    p = float(stats.ttest_ind(high, low, equal_var=True).pvalue) if pooled else 1.0
    return d * (1 - 3 / (4 * (n1 + n0) - 9)), p


def holm(p_values: pd.Series) -> pd.Series:
    """Holm step-down adjusted p-values (monotone, capped at 1)."""
    order = p_values.sort_values().index
    m = len(order)
    adjusted, running = {}, 0.0
    for rank, key in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[key]))
        adjusted[key] = running
    return pd.Series(adjusted).reindex(p_values.index)


def recovered_effects(run_metrics: pd.DataFrame, metrics: tuple[str, ...] = ("cpi", "di", *COMPONENTS)) -> pd.DataFrame:
    """One row per (cell, metric): ``hedges_g``, ``p_value``, ``p_holm`` (across the study's languages, per model,
    date and metric) and ``direction`` (``amplified`` / ``reduced`` when ``p_holm`` < 0.05, else ``null``)."""
    runs = with_indices(run_metrics[~run_metrics["individuation"].astype(bool)])
    rows = []
    for key, cell in runs.groupby(CELL):
        low, high = cell.aligned_share.min(), cell.aligned_share.max()
        for metric in metrics:
            g, p = hedges_g(cell.loc[cell.aligned_share == high, metric].to_numpy(float),
                            cell.loc[cell.aligned_share == low, metric].to_numpy(float))
            rows.append(dict(zip(CELL, key, strict=True), metric=metric, hedges_g=g, p_value=p))
    effects = pd.DataFrame(rows)
    effects["p_holm"] = effects.groupby(["study", "model", "evaluation_date", "metric"])["p_value"].transform(holm)
    effects["direction"] = np.where(effects.p_holm >= ALPHA, "null",
                                    np.where(effects.hedges_g > 0, "amplified", "reduced"))
    return effects
