"""Simulation-based power: how many replicates per cell a study needs to detect an alignment effect.

Why simulate instead of a formula: the CPI is a sum of z-scores of three run-level rates, z-scored within each
study, and the rates come from a discrete process (marker hits in 150 replies); its distribution is not
exactly normal. So the power here comes from run-level metrics the synthetic backend actually produces,
through the same engine and lexicon scorer as a study (the text path), then resampled:

1. A pool of runs is simulated for the cell (language, model): at aligned share 0 (``shift`` mode, the target
   effect is added as a shift) or at shares 0 and 1 (``planted`` mode, the effect the synthetic backend
   plants for that language and model).
2. For each replicate count n and each of ``simulations`` draws, 2n runs are drawn with replacement (n per
   arm), the three rates are z-scored within the draw (as the marts z-score within a study), CPI is summed,
   and in shift mode the high arm's CPI moves by ``effect`` times the draw's CPI sd.
3. Each draw is tested like ``marts.backfire_by_language``: Hedges' g with its 95% CI (detected when the CI
   excludes 0 on the right side) and the pooled t-test at ``alpha``.

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


def simulate_pool(language: str, model: str, *, shares: tuple[float, ...], runs_per_share: int, n_agents: int,
                  n_turns: int, seed: int) -> Any:
    """Run-level monologue_ratio, pathology_rate, protective_rate of synthetic runs (text path, in memory)."""
    import duckdb

    from scoring import get_scorer, score_pending
    from simulation.stages import record_design, simulate_study
    from simulation.study import parse_study
    from warehouse.schema import ensure_raw_schema

    study = parse_study({"name": f"power-{language}", "seed": seed, "design": {
        "languages": [language], "aligned_shares": list(shares), "replicates": runs_per_share,
        "n_agents": n_agents, "n_turns": n_turns}, "models": [{"name": model, "backend": "synthetic"}]},
        "power analysis")
    con = duckdb.connect()
    ensure_raw_schema(con)
    record_design(con, study)
    simulate_study(con, study)
    score_pending(con, get_scorer("lexicon"))
    # The run-level definitions of int_runs_measured (metric spec v1): ratios of sums over the group.
    return con.execute("""
        select r.run_id, r.aligned_share,
               sum(s.value) filter (where s.dimension = 'characters' and u.channel = 'monologue')
                 / sum(s.value) filter (where s.dimension = 'characters' and u.channel in ('talk', 'monologue'))
                 as monologue_ratio,
               100 * sum(s.value) filter (where s.dimension = 'pathology' and u.channel = 'talk')
                 / sum(s.value) filter (where s.dimension = 'units' and u.channel = 'talk') as pathology_rate,
               100 * sum(s.value) filter (where s.dimension = 'protective' and u.channel = 'talk')
                 / sum(s.value) filter (where s.dimension = 'units' and u.channel = 'talk') as protective_rate
        from raw.runs r join raw.utterances u using (run_id) join raw.scores s using (utterance_id)
        where s.scorer = 'lexicon'
        group by all order by r.aligned_share, r.run_id""").df()


def _cpi(rates: np.ndarray) -> np.ndarray:
    """CPI per run from (draws, runs, 3) rates, z-scored within each draw: z(mono) + z(path) - z(prot)."""
    mean = rates.mean(axis=1, keepdims=True)
    sd = rates.std(axis=1, ddof=1, keepdims=True)
    z = np.divide(rates - mean, sd, out=np.zeros_like(rates), where=sd > 0)
    return z[..., 0] + z[..., 1] - z[..., 2]


def detection_rates(low: np.ndarray, high: np.ndarray, n: int, *, shift: float, direction: float, alpha: float,
                    simulations: int, rng: np.random.Generator) -> tuple[float, float]:
    """Share of simulated studies whose CI (and whose t test) detects an effect in ``direction`` (+1 or -1);
    ``shift`` (in CPI sds) is added to the high arm. With no effect this is the one-sided false-detection rate
    (about alpha / 2)."""
    from scipy import stats

    draws = np.concatenate([low[rng.integers(0, len(low), (simulations, n))],
                            high[rng.integers(0, len(high), (simulations, n))]], axis=1)
    cpi = _cpi(draws)
    if shift:
        cpi[:, n:] += shift * cpi.std(axis=1, ddof=1, keepdims=True)
    a, b = cpi[:, :n], cpi[:, n:]
    pooled = np.sqrt(((n - 1) * a.var(axis=1, ddof=1) + (n - 1) * b.var(axis=1, ddof=1)) / (2 * n - 2))
    difference = b.mean(axis=1) - a.mean(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        g = (1 - 3 / (8 * n - 9)) * difference / pooled
        half = 1.96 * np.sqrt(2 / n + g**2 / (4 * n))
        t = difference / (pooled * np.sqrt(2 / n))
    p = 2 * stats.t.sf(np.abs(t), 2 * n - 2)
    detected_ci = (g - half > 0) if direction > 0 else (g + half < 0)
    detected_t = (p < alpha) & (np.sign(t) == direction)
    return float(np.nanmean(detected_ci)), float(np.nanmean(detected_t))


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
    from simulation.estimate import estimate_study
    from simulation.study import parse_study

    study = parse_study({"name": "power-cost", "seed": 0, "design": {
        "languages": [language], "aligned_shares": [0.0, 1.0], "replicates": n, "n_agents": n_agents,
        "n_turns": n_turns}, "models": [{"name": "priced", "backend": "synthetic",
                                          "price_per_1k_input_usd": price_in, "price_per_1k_output_usd": price_out}]},
        "power analysis")
    (estimate,) = estimate_study(study)
    return estimate.calls, estimate.cost_usd


def power_table(language: str, model: str, *, effect: float | None, alpha: float = 0.05,
                replicates: tuple[int, ...] = DEFAULT_REPLICATES, pool_runs: int = 60, simulations: int = 2000,
                n_agents: int = 10, n_turns: int = 15, price_in: float = 0.0, price_out: float = 0.0,
                seed: int = 0) -> tuple[list[PowerRow], float]:
    """Power per replicate count; ``effect=None`` uses the planted effect. Returns the rows and the effect
    (the planted one is estimated from the pools as Hedges' g)."""
    rng = np.random.default_rng(seed)
    columns = ["monologue_ratio", "pathology_rate", "protective_rate"]
    if effect is None:
        pool = simulate_pool(language, model, shares=(0.0, 1.0), runs_per_share=pool_runs, n_agents=n_agents,
                             n_turns=n_turns, seed=seed)
        low = pool[pool.aligned_share == 0.0][columns].to_numpy(float)
        high = pool[pool.aligned_share == 1.0][columns].to_numpy(float)
        cpi = _cpi(np.concatenate([low, high])[None])[0]
        a, b = cpi[:len(low)], cpi[len(low):]
        pooled = np.sqrt(((len(a) - 1) * a.var(ddof=1) + (len(b) - 1) * b.var(ddof=1)) / (len(a) + len(b) - 2))
        size = float((b.mean() - a.mean()) / pooled)
        shift = 0.0
    else:
        pool = simulate_pool(language, model, shares=(0.0,), runs_per_share=2 * pool_runs, n_agents=n_agents,
                             n_turns=n_turns, seed=seed)
        values = pool[columns].to_numpy(float)
        low = high = values
        size = shift = effect
    rows = []
    for n in replicates:
        power_ci, power_t = detection_rates(low, high, n, shift=shift, direction=1.0 if size >= 0 else -1.0,
                                            alpha=alpha, simulations=simulations, rng=rng)
        calls, cost = cell_cost(language, n, n_agents=n_agents, n_turns=n_turns, price_in=price_in,
                                price_out=price_out)
        rows.append(PowerRow(n, power_ci, power_t, analytic_power(size, n, alpha) if size else None, calls, cost))
    return rows, size
