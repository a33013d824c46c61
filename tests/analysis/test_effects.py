from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from analysis.effects import hedges_g, t_two_sided_p


def test_hedges_g_matches_a_direct_scipy_computation() -> None:
    rng = np.random.default_rng(3)
    high, low = rng.normal(1.0, 1.3, 11), rng.normal(0.2, 0.9, 14)
    effect = hedges_g(list(high), list(low))
    n1, n2 = len(high), len(low)
    pooled = math.sqrt(((n1 - 1) * high.var(ddof=1) + (n2 - 1) * low.var(ddof=1)) / (n1 + n2 - 2))
    g = (1 - 3 / (4 * (n1 + n2) - 9)) * (high.mean() - low.mean()) / pooled
    assert effect.hedges_g == pytest.approx(g, abs=1e-9)
    assert effect.p_value == pytest.approx(stats.ttest_ind(high, low, equal_var=True).pvalue, abs=1e-9)
    half = 1.96 * math.sqrt((n1 + n2) / (n1 * n2) + g**2 / (2 * (n1 + n2)))
    assert (effect.ci_low, effect.ci_high) == pytest.approx((g - half, g + half), abs=1e-9)


def test_paper_study1_japanese_effect_gives_p_038() -> None:
    # g = 0.771 with 15 vs 15 runs: d = g / J, t = d * sqrt(n1 n2 / (n1 + n2)), df = 28.
    d = 0.771 / (1 - 3 / (4 * 30 - 9))
    p = t_two_sided_p(d * math.sqrt(15 * 15 / 30), 28)
    assert p == pytest.approx(0.038, abs=0.001)


def test_effect_is_undefined_without_spread_or_enough_runs() -> None:
    assert hedges_g([1.0, 1.0], [1.0, 1.0]).hedges_g is None
    assert hedges_g([1.0], [0.0, 2.0]).direction is None  # no CI from one run: nothing to judge by
    assert t_two_sided_p(None, 3) is None


def test_the_sql_functions_answer_null_where_the_statistic_is_undefined() -> None:
    """One run per arm (df 0) or a missing input gives NULL in SQL, as in Python, not an error that fails the
    marts step (a real-model study with one replicate reached ``t_quantile(0.975, 0)`` in the scorecard)."""
    import duckdb

    from analysis.duckdb_functions import register_functions

    with duckdb.connect() as con:
        register_functions(con)
        row = con.execute("select t_quantile(0.975, 0), t_quantile(0.975, null), t_two_sided_p(2.0, 0), "
                          "t_two_sided_p(null, 3), f_upper_p(2.0, 1, 0), t_quantile(0.975, 10)").fetchone()
    assert row is not None and row[:5] == (None, None, None, None, None)
    assert abs(row[5] - 2.228138851986274) < 1e-12
