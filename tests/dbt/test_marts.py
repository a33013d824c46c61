"""The marts against a direct pandas/scipy computation on the same runs (metric spec v1)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pytest
from scipy import stats

from analysis.effects import hedges_g
from orchestration.dbt.project import PROJECT_DIR
from tests.test_helpers.studies import small_study_dict
from tests.test_helpers.warehouses import build_warehouse

pytestmark = [pytest.mark.slow, pytest.mark.integration]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    def drop_last_turn_of_one_run(con: duckdb.DuckDBPyConnection) -> None:
        partial = con.execute("select run_id from raw.runs where aligned_share = 0.5 and language = 'en' "
                              "order by run_id limit 1").fetchone()[0]
        con.execute("delete from raw.utterances where run_id = ? and turn = 5", [partial])
        con.execute("create table main.partial_run as select ? as run_id", [partial])

    path = build_warehouse(tmp_path_factory.mktemp("dbt") / "warehouse.duckdb",
                           [small_study_dict(aligned_shares=[0.0, 0.5, 1.0], replicates=4, n_turns=5)],
                           before_scoring=drop_last_turn_of_one_run)
    from analysis.stats_models import build_stats_models

    with duckdb.connect(str(path)) as con:  # the Python mart the pipeline builds after dbt
        build_stats_models(con, n_permutations=199)
    return path


def test_run_metrics_recompute_from_raw_tables(built: Path) -> None:
    with duckdb.connect(str(built), read_only=True) as con:
        mart = con.sql("select run_id, monologue_ratio, pathology_rate, cpi, di from marts.run_metrics").df()
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
    z = {name: (col - col.mean()) / col.std(ddof=1) for name, col in {
        "m": frame["mono"] / frame["chars"], "p": 100 * frame["path"] / frame["units"],
        "q": 100 * frame["prot"] / frame["units"]}.items()}
    np.testing.assert_allclose(frame["cpi"], z["m"] + z["p"] - z["q"], atol=1e-9)
    np.testing.assert_allclose(frame["di"], z["m"] + z["q"] - z["p"], atol=1e-9)


def test_partially_simulated_runs_stay_out_of_the_marts(built: Path) -> None:
    with duckdb.connect(str(built), read_only=True) as con:
        missing = con.execute("select count(*) from marts.run_metrics where run_id in "
                              "(select run_id from main.partial_run)").fetchone()[0]
        total = con.execute("select count(*) from marts.run_metrics").fetchone()[0]
    assert missing == 0 and total == 2 * 3 * 4 - 1


@pytest.mark.parametrize(("mart", "metric"), [("backfire_by_language", "cpi"), ("dissociation_by_language", "di")])
def test_effect_tables_match_scipy(built: Path, mart: str, metric: str) -> None:
    with duckdb.connect(str(built), read_only=True) as con:
        runs = con.sql(f"select language, aligned_share, {metric} as y from marts.run_metrics").df()
        table = con.sql(f"select * from marts.{mart}").df().set_index("language")
    assert sorted(table.index) == ["en", "ja"]
    for language, cell in runs.groupby("language"):
        high, low = cell[cell.aligned_share == 1.0]["y"], cell[cell.aligned_share == 0.0]["y"]
        expected = hedges_g(list(high), list(low))
        row = table.loc[language]
        assert (row.n_low, row.n_high) == (4, 4)
        assert row.hedges_g == pytest.approx(expected.hedges_g, abs=1e-9)
        assert (row.g_ci_low, row.g_ci_high) == pytest.approx((expected.ci_low, expected.ci_high), abs=1e-9)
        assert row.p_value == pytest.approx(stats.ttest_ind(high, low).pvalue, abs=1e-9)
        assert row.slope == pytest.approx(stats.linregress(cell.aligned_share, cell.y).slope, abs=1e-9)
        assert row.direction == expected.direction
        assert bool(row.backfire) == (expected.direction == "amplified")
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
