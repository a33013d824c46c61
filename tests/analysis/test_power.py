"""Simulated power from synthetic runs against the analytic t-test power, and the CLI around it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.power import analytic_power, detection_rates, power_table
from cli.main import main
from orchestration.power_pool import simulate_pool

pytestmark = pytest.mark.slow
COLUMNS = ["monologue_ratio", "pathology_rate", "protective_rate"]


@pytest.fixture(scope="module")
def null_pool_runs() -> pd.DataFrame:
    return simulate_pool("en", "synthetic-power", shares=(0.0,), runs_per_share=60, n_agents=10, n_turns=6, seed=1)


@pytest.fixture(scope="module")
def null_pool(null_pool_runs: pd.DataFrame) -> np.ndarray:
    return null_pool_runs["cpi"].to_numpy(float)


def test_the_pool_cpi_is_the_marts_z_sum_over_the_pool(null_pool_runs: pd.DataFrame) -> None:
    """The pool is measured by marts.run_metrics: CPI = z(mono) + z(path) - z(prot) over the pool's runs."""
    rates = null_pool_runs[COLUMNS].to_numpy(float)
    z = (rates - rates.mean(axis=0)) / rates.std(axis=0, ddof=1)
    assert len(null_pool_runs) == 60 and set(null_pool_runs.aligned_share) == {0.0}
    np.testing.assert_allclose(null_pool_runs["cpi"].to_numpy(float), z[:, 0] + z[:, 1] - z[:, 2], rtol=1e-9,
                               atol=1e-12)


def test_simulated_power_tracks_the_analytic_t_test_and_rises_with_n(null_pool: np.ndarray) -> None:
    rng = np.random.default_rng(0)
    powers = []
    for n in (5, 15, 30):
        shift = 0.77 * null_pool.std(ddof=1)
        power_ci, power_t = detection_rates(null_pool, null_pool, n, shift=shift, direction=1.0, alpha=0.05,
                                            simulations=4000, rng=rng)
        assert power_t == pytest.approx(analytic_power(0.77, n, 0.05), abs=0.04)
        assert power_ci <= power_t + 0.03  # the CI rule is a little stricter than p < alpha
        powers.append(power_ci)
    assert powers == sorted(powers) and powers[-1] > 0.75


def test_without_an_effect_false_detections_stay_near_alpha_over_two(null_pool: np.ndarray) -> None:
    rng = np.random.default_rng(2)
    power_ci, power_t = detection_rates(null_pool, null_pool, 15, shift=0.0, direction=1.0, alpha=0.05,
                                        simulations=4000, rng=rng)
    assert power_t == pytest.approx(0.025, abs=0.012) and power_ci <= 0.04


def test_the_paper_study1_design_had_about_even_odds_for_g_077() -> None:
    # 15 vs 15 runs and g = 0.771 (Study 1, Japanese): a two-sided t test detects it about half the time.
    assert analytic_power(0.771, 15, 0.05) == pytest.approx(0.52, abs=0.03)


def test_planted_mode_estimates_the_planted_effect_and_its_power() -> None:
    pool = simulate_pool("en", "synthetic-power", shares=(0.0, 1.0), runs_per_share=30, n_agents=10, n_turns=6,
                         seed=3)
    rows, size = power_table(pool, "en", effect=None, replicates=(4, 12), simulations=500, n_turns=6, seed=3)
    assert size < -1.0  # alignment reduces CPI in English, strongly (planted)
    assert rows[1].power_ci > rows[0].power_ci and rows[1].power_ci > 0.8
    assert rows[1].calls_per_cell == 2 * 12 * 10 * 6


def test_cli_prints_the_table_the_n_for_80_percent_and_the_cost(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["power", "--effect", "1.5", "--replicates", "4,12", "--simulations", "300", "--pool-runs", "20",
                 "--n-turns", "4", "--cells", "3", "--price-in", "0.001", "--price-out", "0.002"])
    out = capsys.readouterr().out
    assert code == 0 and "replicates per arm" in out and "N for 80% power: 12 replicates per arm" in out
    assert "calls (3 cells)" in out and "seed 0" in out
    assert main(["power", "--effect", "0.5", "--alpha", "2"]) == 2
    assert "--alpha" in capsys.readouterr().err
    assert main(["power", "--effect", "0.5", "--target", "80"]) == 2
    assert main(["power", "--effect", "0.5", "--price-in", "-1"]) == 2


def test_small_designs_match_the_exact_t_test_power_on_normal_data() -> None:
    rng = np.random.default_rng(5)
    pool = rng.normal(size=100_000)
    for n, exact in ((3, 0.159), (5, 0.286), (10, 0.562)):  # d = 1, two-sided alpha 0.05 (noncentral t)
        _, power_t = detection_rates(pool, pool, n, shift=1.0, direction=1.0, alpha=0.05, simulations=20_000,
                                     rng=rng)
        assert power_t == pytest.approx(exact, abs=0.012) and analytic_power(1.0, n, 0.05) == pytest.approx(
            exact, abs=0.002)


def test_alpha_moves_the_ci_rule_and_a_draw_without_spread_detects_nothing() -> None:
    rng = np.random.default_rng(6)
    pool = rng.normal(size=50_000)
    loose = detection_rates(pool, pool, 10, shift=1.0, direction=1.0, alpha=0.05, simulations=5000, rng=rng)
    strict = detection_rates(pool, pool, 10, shift=1.0, direction=1.0, alpha=0.001, simulations=5000, rng=rng)
    assert strict[0] < loose[0] - 0.2 and strict[1] < loose[1] - 0.2
    flat = np.zeros(10)
    assert detection_rates(flat, flat, 5, shift=0.0, direction=1.0, alpha=0.05, simulations=100, rng=rng) == (0, 0)
