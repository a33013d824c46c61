"""The expected rows of the dbt unit tests of pdi_correlation (models_dbt/models/marts/_marts.yml) are what scipy
computes from their given rows; `dbt build` (tests/dbt/test_dbt_build.py) runs the mart's own SQL against them."""

from __future__ import annotations

from collections import defaultdict

import pytest
import yaml
from scipy import stats

from orchestration.dbt.project import PROJECT_DIR

MARTS_YML = PROJECT_DIR / "models" / "marts" / "_marts.yml"


def _unit_tests(model: str) -> list[dict]:
    tests = yaml.safe_load(MARTS_YML.read_text(encoding="utf-8"))["unit_tests"]
    return [test for test in tests if test["model"] == model]


def test_pdi_correlation_has_unit_tests_for_ties_and_small_samples() -> None:
    names = {test["name"] for test in _unit_tests("pdi_correlation")}
    assert names == {"pdi_correlation_ranks_ties_on_average_like_scipy",
                     "pdi_correlation_needs_three_languages_and_four_for_a_ci"}


@pytest.mark.parametrize("unit_test", _unit_tests("pdi_correlation"), ids=lambda test: test["name"])
def test_pdi_correlation_unit_test_expectations_match_scipy(unit_test: dict) -> None:
    (given,) = unit_test["given"]
    points: dict[tuple[str, str], list[tuple[float, float]]] = defaultdict(list)
    for row in given["rows"]:
        if row["hedges_g"] is not None and row["pdi"] is not None:
            points[row.get("model", "m"), row.get("metric", "cpi")].append((row["hedges_g"], row["pdi"]))
    expected = unit_test["expect"]["rows"]
    assert len(expected) == len(points)
    for row in expected:
        cell = points[row.get("model", "m"), row.get("metric", "cpi")]
        g, pdi = zip(*cell, strict=True)
        assert row["n_languages"] == len(cell)
        if len(cell) < 3:  # two points always correlate +/-1: undefined
            assert row["pearson_r"] is None and row["spearman_rho"] is None
            continue
        assert row["pearson_r"] == pytest.approx(stats.pearsonr(g, pdi).statistic, abs=1e-12)
        assert row["spearman_rho"] == pytest.approx(stats.spearmanr(g, pdi).statistic, abs=1e-12)
        if len(cell) < 4:  # no Fisher-z CI below four points
            assert row["r_ci_low"] is None and row["r_ci_high"] is None


def test_the_tie_unit_test_tells_average_ranks_from_plain_ranks() -> None:
    """SQL's rank() alone gives tied values the lowest rank; the unit test's data would catch that."""
    (test,) = [t for t in _unit_tests("pdi_correlation") if "ties" in t["name"]]
    cell = [(r["hedges_g"], r["pdi"]) for r in test["given"][0]["rows"]
            if r["hedges_g"] is not None and r["pdi"] is not None]
    g, pdi = zip(*cell, strict=True)
    assert len(set(g)) < len(g) and len(set(pdi)) < len(pdi)
    (expected,) = test["expect"]["rows"]
    plain = stats.pearsonr(stats.rankdata(g, method="min"), stats.rankdata(pdi, method="min")).statistic
    assert abs(plain - expected["spearman_rho"]) > 1e-4
