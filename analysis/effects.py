"""Effect sizes as the marts define them (docs/metrics.md), in plain Python for checks and reports.

The dbt marts compute the same quantities in SQL; tests compare both with scipy.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


def t_two_sided_p(t: float | None, df: float | None) -> float | None:
    """Two-sided p of Student's t; ``None`` when undefined (no variance, too few runs)."""
    if t is None or df is None or df <= 0 or math.isnan(t):
        return None
    from scipy import stats

    return float(2.0 * stats.t.sf(abs(t), df))


def f_upper_p(f: float | None, df1: float | None, df2: float | None) -> float | None:
    """Upper-tail p of Fisher's F (an interaction F test); ``None`` when undefined."""
    if f is None or df1 is None or df2 is None or df1 <= 0 or df2 <= 0 or math.isnan(f):
        return None
    from scipy import stats

    return float(stats.f.sf(f, df1, df2))


def t_quantile(probability: float | None, df: float | None) -> float | None:
    """Student's t quantile (a run-clustered CI's critical value); ``None`` when undefined."""
    if probability is None or df is None or df <= 0 or not 0 < probability < 1:
        return None
    from scipy import stats

    return float(stats.t.ppf(probability, df))


@dataclass(frozen=True)
class EffectSize:
    n_low: int
    n_high: int
    mean_low: float
    mean_high: float
    hedges_g: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None

    @property
    def direction(self) -> str | None:
        if self.ci_low is not None and self.ci_low > 0:
            return "amplified"
        if self.ci_high is not None and self.ci_high < 0:
            return "reduced"
        return "none" if self.ci_low is not None and self.ci_high is not None else None


def hedges_g(high: Sequence[float], low: Sequence[float]) -> EffectSize:
    """Hedges' g of ``high`` minus ``low`` with the pooled sd, its 95% CI and the pooled-variance t test p.

    g = J (mean_high - mean_low) / s_pooled, J = 1 - 3 / (4 (n1 + n2) - 9),
    CI = g +/- 1.96 sqrt((n1 + n2) / (n1 n2) + g^2 / (2 (n1 + n2))).
    """
    n1, n2 = len(high), len(low)
    m1 = sum(high) / n1 if n1 else float("nan")
    m2 = sum(low) / n2 if n2 else float("nan")
    if n1 < 2 or n2 < 2:
        return EffectSize(n2, n1, m2, m1, None, None, None, None)
    v1 = sum((x - m1) ** 2 for x in high) / (n1 - 1)
    v2 = sum((x - m2) ** 2 for x in low) / (n2 - 1)
    pooled = math.sqrt(((n1 - 1) * v1 + (n2 - 1) * v2) / (n1 + n2 - 2))
    if pooled == 0:
        return EffectSize(n2, n1, m2, m1, None, None, None, None)
    g = (1 - 3 / (4 * (n1 + n2) - 9)) * (m1 - m2) / pooled
    se = math.sqrt((n1 + n2) / (n1 * n2) + g**2 / (2 * (n1 + n2)))
    t = (m1 - m2) / (pooled * math.sqrt(1 / n1 + 1 / n2))
    return EffectSize(n2, n1, m2, m1, g, g - 1.96 * se, g + 1.96 * se, t_two_sided_p(t, n1 + n2 - 2))
