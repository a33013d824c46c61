"""Blocking gates through Dagster: a corrupted transcript table stops at its contract, before any mart."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from core.study import load_study
from orchestration.launch import materialize_study
from tests.conftest import DEMO_STUDY, DemoRun
from tests.test_helpers.warehouses import copy_warehouse

pytestmark = [pytest.mark.slow, pytest.mark.integration, pytest.mark.xdist_group("demo")]


def test_a_corrupted_transcript_table_is_stopped_by_its_gate_before_the_marts(demo_run: DemoRun,
                                                                             tmp_path: Path) -> None:
    assert demo_run.success, demo_run.failures
    db = copy_warehouse(demo_run.db_path, tmp_path)  # never write into the shared demo warehouse
    first_language = load_study(DEMO_STUDY).design.languages[0]  # its run is the first the gate stops
    with duckdb.connect(str(db)) as con:
        con.execute("drop schema marts cascade")
        con.execute("""update raw.utterances set status = 'garbled' where utterance_id = (
                           select min(u.utterance_id) from raw.utterances u join raw.runs r using (run_id)
                           where r.language = ?)""", [first_language])
        scores_before = con.execute("select count(*) from raw.scores").fetchone()

    result = materialize_study(DEMO_STUDY, db=db)

    assert not result.success
    report = "\n".join(result.failures)
    assert "utterances_contract" in report and "column status" in report and "garbled" in report
    assert "marts not rebuilt" in report
    with duckdb.connect(str(db), read_only=True) as con:
        marts = con.execute("select count(*) from information_schema.tables where table_schema = 'marts'").fetchone()
        scores_after = con.execute("select count(*) from raw.scores").fetchone()
    assert marts == (0,)  # nothing downstream of the gate ran: no dbt model, no statistics
    assert scores_after == scores_before
