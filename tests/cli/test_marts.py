"""``backfire marts`` rebuilds the marts of an existing warehouse from its seeds and raw tables, writing no
raw row: a seed that differs from what the warehouse was built with shows in the marts afterwards."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from cli.main import main
from tests.conftest import DemoRun
from tests.test_helpers.warehouses import copy_warehouse

UTTERANCES_DIGEST = "select sum(hash(run_id, turn, text)) from raw.utterances"
RAW = ["raw.runs", "raw.agents", "raw.utterances", "raw.scores", "raw.studies", "raw.content_packs"]


def _raw_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    return {t: con.execute(f"select count(*) from {t}").fetchone()[0] for t in RAW}  # type: ignore[index]


@pytest.mark.slow
@pytest.mark.integration
@pytest.mark.xdist_group("demo")
def test_marts_follow_the_seed_and_leave_raw_data_alone(demo_run: DemoRun, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    assert demo_run.success, demo_run.failures
    db = copy_warehouse(demo_run.db_path, tmp_path)
    with duckdb.connect(str(db)) as con:
        schema = con.execute("select table_schema from information_schema.tables "
                             "where table_name = 'hofstede_power_distance'").fetchone()[0]  # type: ignore[index]
        (csv_pdi,) = con.execute("select pdi from marts.language_pdi where language = 'ja'").fetchone()  # type: ignore[misc]
        # the warehouse as built from an older seed: Japan's PDI was 1, in the seed table and in the mart
        con.execute(f"update {schema}.hofstede_power_distance set pdi = 1 where language = 'ja'")
        con.execute("update marts.language_pdi set pdi = 1 where language = 'ja'")
        raw_before = _raw_counts(con)
        digest = con.execute(UTTERANCES_DIGEST).fetchone()
    assert main(["marts", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert "marts rebuilt in" in out and "language_pdi" in out and f"warehouse: {db}" in out
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("select pdi from marts.language_pdi where language = 'ja'").fetchone() == (csv_pdi,)
        assert _raw_counts(con) == raw_before
        assert con.execute(UTTERANCES_DIGEST).fetchone() == digest


def test_marts_without_runs_says_to_run_a_study_first(tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "empty.duckdb"
    duckdb.connect(str(db)).close()
    assert main(["marts", "--db", str(db)]) == 2
    assert "no runs stored" in capsys.readouterr().err
