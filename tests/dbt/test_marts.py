"""The marts against a direct pandas/scipy computation on the same runs (metric spec v1)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pytest
from scipy import stats

from analysis.effects import hedges_g
from orchestration.dbt.project import PROJECT_DIR
from tests.test_helpers.warehouses import MARTS_STUDY, dbt_test_design

pytestmark = [pytest.mark.slow, pytest.mark.integration, pytest.mark.xdist_group("dbt_warehouse")]
DESIGN = dbt_test_design(MARTS_STUDY)


@pytest.fixture(scope="module")
def built(dbt_warehouse: Path) -> Path:
    return dbt_warehouse


def test_run_metrics_recompute_from_raw_tables(built: Path) -> None:
    with duckdb.connect(str(built), read_only=True) as con:
        mart = con.execute("select run_id, language, monologue_ratio, pathology_rate, cpi, di from marts.run_metrics "
                           "where study = ?", [MARTS_STUDY]).df()
        raw = con.sql("""
            select u.run_id,
                   sum(s.value) filter (where s.dimension = 'characters' and u.channel = 'monologue') as mono,
                   sum(s.value) filter (where s.dimension = 'characters') as chars,
                   sum(s.value) filter (where s.dimension = 'pathology' and u.channel = 'talk') as path,
                   sum(s.value) filter (where s.dimension = 'protective' and u.channel = 'talk') as prot,
                   sum(s.value) filter (where s.dimension = 'units' and u.channel = 'talk') as units
            from raw.utterances u join raw.scores s using (utterance_id) group by 1""").df()
    frame = mart.merge(raw, on="run_id")
    np.testing.assert_allclose(frame["monologue_ratio"], frame["mono"] / frame["chars"], atol=1e-12)
    np.testing.assert_allclose(frame["pathology_rate"], 100 * frame["path"] / frame["units"], atol=1e-12)
    by_language = frame.groupby("language")  # the default reference: within study x language x model x date
    z = {name: (col - col.groupby(frame.language).transform("mean")) / col.groupby(frame.language).transform("std")
         for name, col in {"m": frame["mono"] / frame["chars"], "p": 100 * frame["path"] / frame["units"],
                           "q": 100 * frame["prot"] / frame["units"]}.items()}
    assert len(by_language) > 1
    np.testing.assert_allclose(frame["cpi"], z["m"] + z["p"] - z["q"], atol=1e-9)
    np.testing.assert_allclose(frame["di"], z["m"] + z["q"] - z["p"], atol=1e-9)


def test_partially_simulated_runs_stay_out_of_the_marts(built: Path) -> None:
    with duckdb.connect(str(built), read_only=True) as con:
        missing = con.execute("select count(*) from marts.run_metrics where run_id in "
                              "(select run_id from main.partial_run)").fetchone()[0]
        total = con.execute("select count(*) from marts.run_metrics where study = ?", [MARTS_STUDY]).fetchone()[0]
    runs = len(DESIGN["languages"]) * len(DESIGN["aligned_shares"]) * DESIGN["replicates"]
    assert missing == 0 and total == runs - 1


@pytest.mark.parametrize(("mart", "metric"), [("backfire_by_language", "cpi"), ("dissociation_by_language", "di")])
def test_effect_tables_match_scipy(built: Path, mart: str, metric: str) -> None:
    with duckdb.connect(str(built), read_only=True) as con:
        runs = con.execute(f"select language, aligned_share, {metric} as y from marts.run_metrics where study = ?",
                           [MARTS_STUDY]).df()
        table = con.execute(f"select * from marts.{mart} where study = ?", [MARTS_STUDY]).df().set_index("language")
    assert sorted(table.index) == sorted(DESIGN["languages"])
    from statsmodels.stats.multitest import multipletests

    p_raw = {language: stats.ttest_ind(cell[cell.aligned_share == 1.0]["y"],
                                       cell[cell.aligned_share == 0.0]["y"]).pvalue
             for language, cell in runs.groupby("language")}
    holm = dict(zip(p_raw, multipletests(list(p_raw.values()), method="holm")[1], strict=True))
    for language, cell in runs.groupby("language"):
        high, low = cell[cell.aligned_share == 1.0]["y"], cell[cell.aligned_share == 0.0]["y"]
        expected = hedges_g(list(high), list(low))
        row = table.loc[language]
        assert (row.n_low, row.n_high) == (DESIGN["replicates"], DESIGN["replicates"])
        assert row.hedges_g == pytest.approx(expected.hedges_g, abs=1e-9)
        assert (row.g_ci_low, row.g_ci_high) == pytest.approx((expected.ci_low, expected.ci_high), abs=1e-9)
        assert row.p_value == pytest.approx(stats.ttest_ind(high, low).pvalue, abs=1e-9)
        assert row.slope == pytest.approx(stats.linregress(cell.aligned_share, cell.y).slope, abs=1e-9)
        assert row.p_adjusted == pytest.approx(holm[language], abs=1e-9)
        direction = "none" if holm[language] >= 0.05 else "amplified" if expected.hedges_g > 0 else "reduced"
        assert row.direction == direction
        assert bool(row.backfire) == (direction == "amplified")
        assert row[f"mean_{metric}_high"] == pytest.approx(high.mean(), abs=1e-12)


def test_every_sql_cookbook_query_runs_on_a_built_warehouse(built: Path) -> None:
    import re

    from analysis.duckdb_functions import register_functions

    cookbook = (PROJECT_DIR.parent / "docs" / "sql-cookbook.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```sql\n(.*?)```", cookbook, re.DOTALL)
    assert len(blocks) >= 10
    with duckdb.connect(str(built), read_only=True) as con:
        register_functions(con)
        for block in blocks:
            for statement in filter(str.strip, block.split(";")):
                con.execute(statement).fetchall()  # raises with the failing query on a typo or a renamed column
