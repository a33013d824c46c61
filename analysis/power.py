"""Simulation-based power: how many replicates per cell a study needs to detect an alignment effect.

Why simulate instead of a formula: the CPI is a sum of z-scores of three run-level rates, z-scored within each
study, and the rates come from a discrete process (marker hits in 150 replies); its distribution is not
exactly normal. So the power here comes from run-level metrics the synthetic backend actually produces,
through the same engine and lexicon scorer as a study (the text path), then resampled:

1. A pool of runs is simulated for the cell (language, model): at aligned share 0 (``shift`` mode, the target
   effect is added as a shift) or at shares 0 and 1 (``planted`` mode, the effect the synthetic backend
   plants for that language and model). ``orchestration.power_pool.simulate_pool`` plays it and measures it
   with the marts' own SQL (``marts.run_metrics``: the three rates z-scored over the pool, summed into CPI).
2. For each replicate count n, ``simulations`` studies of n runs per arm are drawn with replacement; in shift
   mode every high-arm CPI moves by ``effect`` times the pool's CPI sd (one fixed amount: shifting by each
   draw's own sd would bias the test and understate power at small n).
3. Each draw is tested like ``marts.backfire_by_language``: Hedges' g with its CI at ``1 - alpha`` (detected
   when it excludes 0 on the effect's side; at alpha 0.05 exactly the mart's rule) and the pooled t test.

The analytic power of a two-sample t test (noncentral t) is printed next to the simulated one as a check.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

DEFAULT_REPLICATES = (3, 5, 8, 10, 15, 20, 30, 40)


@dataclass(frozen=True)
class PowerRow:
    replicates: int
    power_ci: float
    power_t: float
    analytic_power: float | None
    calls_per_cell: int
    cost_per_cell_usd: float


def detection_rates(low: np.ndarray, high: np.ndarray, n: int, *, shift: float, direction: float, alpha: float,
                    simulations: int, rng: np.random.Generator) -> tuple[float, float]:
    """Share of simulated studies (n CPI values per arm, drawn with replacement from the pools) whose CI
    (``g -/+ z(1 - alpha/2) se`` excludes 0) and whose pooled t test (p < alpha) detect an effect in
    ``direction`` (+1 or -1). ``shift`` is added to every high-arm value (one fixed amount, so the test stays
    the standard one). A draw with no spread detects nothing. With no effect this is the one-sided
    false-detection rate (about alpha / 2)."""
    from scipy import stats

    a = low[rng.integers(0, len(low), (simulations, n))]
    b = high[rng.integers(0, len(high), (simulations, n))] + shift
    pooled = np.sqrt(((n - 1) * a.var(axis=1, ddof=1) + (n - 1) * b.var(axis=1, ddof=1)) / (2 * n - 2))
    difference = b.mean(axis=1) - a.mean(axis=1)
    spread = pooled > 0
    safe = np.where(spread, pooled, 1.0)
    g = (1 - 3 / (8 * n - 9)) * difference / safe
    half = stats.norm.ppf(1 - alpha / 2) * np.sqrt(2 / n + g**2 / (4 * n))
    t = difference / (safe * np.sqrt(2 / n))
    p = 2 * stats.t.sf(np.abs(t), 2 * n - 2)
    detected_ci = spread & ((g - half > 0) if direction > 0 else (g + half < 0))
    detected_t = spread & (p < alpha) & (np.sign(t) == direction)
    return float(detected_ci.mean()), float(detected_t.mean())


def analytic_power(effect: float, n: int, alpha: float) -> float:
    """Power of the two-sided pooled t test for a standardized difference ``effect`` with n per arm."""
    from scipy import stats

    df = 2 * n - 2
    critical = stats.t.ppf(1 - alpha / 2, df)
    noncentrality = abs(effect) * np.sqrt(n / 2)
    return float(stats.nct.sf(critical, df, noncentrality) + stats.nct.cdf(-critical, df, noncentrality))


def cell_cost(language: str, n: int, *, n_agents: int, n_turns: int, price_in: float,
              price_out: float) -> tuple[int, float]:
    """Calls and estimated cost of one cell (two arms of n runs) at the given prices (``backfire estimate``)."""
    from core.study import parse_study
    from simulation.estimate import estimate_study

    study = parse_study({"name": "power-cost", "seed": 0, "design": {
        "languages": [language], "aligned_shares": [0.0, 1.0], "replicates": n, "n_agents": n_agents,
        "n_turns": n_turns}, "models": [{"name": "priced", "backend": "synthetic",
                                          "price_per_1k_input_usd": price_in, "price_per_1k_output_usd": price_out}]},
        "power analysis")
    (estimate,) = estimate_study(study)
    return estimate.calls, estimate.cost_usd


def power_table(pool: Any, language: str, *, effect: float | None, alpha: float = 0.05,
                replicates: tuple[int, ...] = DEFAULT_REPLICATES, simulations: int = 2000, n_agents: int = 10,
                n_turns: int = 15, price_in: float = 0.0, price_out: float = 0.0,
                seed: int = 0) -> tuple[list[PowerRow], float]:
    """Power per replicate count from a pool of runs (``aligned_share`` and ``cpi`` columns, as
    ``marts.run_metrics`` measures them). ``effect=None`` uses the pool's own effect (planted mode: arms at
    aligned share 0 and 1, estimated as Hedges' g); otherwise the pool is one arm and ``effect`` is added as a
    shift. Returns the rows and the effect."""
    rng = np.random.default_rng(seed)
    cpi = pool["cpi"].to_numpy(float)
    if effect is None:
        low_arm = (pool["aligned_share"] == pool["aligned_share"].min()).to_numpy()
        low, high = cpi[low_arm], cpi[~low_arm]
        pooled = np.sqrt(((len(low) - 1) * low.var(ddof=1) + (len(high) - 1) * high.var(ddof=1))
                         / (len(low) + len(high) - 2))
        size = float((high.mean() - low.mean()) / pooled) if pooled > 0 else 0.0
        shift = 0.0
    else:
        low = high = cpi
        size, shift = effect, effect * float(low.std(ddof=1))
    rows = []
    for n in replicates:
        power_ci, power_t = detection_rates(low, high, n, shift=shift, direction=1.0 if size >= 0 else -1.0,
                                            alpha=alpha, simulations=simulations, rng=rng)
        calls, cost = cell_cost(language, n, n_agents=n_agents, n_turns=n_turns, price_in=price_in,
                                price_out=price_out)
        rows.append(PowerRow(n, power_ci, power_t, analytic_power(size, n, alpha) if size else None, calls, cost))
    return rows, size
