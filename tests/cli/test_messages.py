"""Messages that say what happened and what to do, without sending the reader elsewhere: a file that is not a
DuckDB database, and a failed launch summarised on its own."""

from __future__ import annotations

from pathlib import Path

import pytest

from cli.main import main
from core.errors import BackfireError, WarehouseError
from orchestration.launch import LaunchResult, raise_for_failure
from tests.conftest import DEMO_STUDY
from warehouse.connection import connect, logs_dir, reports_dir


@pytest.fixture
def not_duckdb(tmp_path: Path) -> Path:
    path = tmp_path / "notes.duckdb"
    path.write_text("these are notes, not a warehouse\n" * 10, encoding="utf-8")
    return path


@pytest.mark.parametrize("read_only", [True, False])
def test_a_file_that_is_not_duckdb_is_named_as_such(not_duckdb: Path, read_only: bool) -> None:
    with pytest.raises(WarehouseError) as caught:
        connect(not_duckdb, read_only=read_only, wait_s=0)
    message = str(caught.value)
    assert str(not_duckdb) in message and "not a DuckDB database" in message and "--db" in message
    assert "close other writers" not in message


@pytest.mark.parametrize("verb", [["run", str(DEMO_STUDY)], ["tables"], ["query", "select 1"]])
def test_verbs_on_a_file_that_is_not_duckdb_stop_with_one_self_contained_line(
        not_duckdb: Path, verb: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    before = not_duckdb.read_bytes()
    assert main([*verb, "--db", str(not_duckdb)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {not_duckdb}: this file is not a DuckDB database. Fix: point --db")
    assert "above" not in err and "close other writers" not in err
    assert not_duckdb.read_bytes() == before  # nothing was written into the user's file
    assert not logs_dir(not_duckdb).exists()  # `run` stopped before any pipeline started


def test_a_failed_launch_lists_its_failures_and_refers_to_nothing_else(tmp_path: Path) -> None:
    log = tmp_path / "w.logs" / "last_run.log"
    failed = LaunchResult("r1", False, tmp_path / "w.duckdb", ["raw__utterances: boom", "check x failed: y"], log)
    with pytest.raises(BackfireError) as caught:
        raise_for_failure(failed)
    message = str(caught.value)
    assert "raw__utterances: boom" in message and str(log) in message
    assert "fix the 2 failure(s) listed here" in message and "above" not in message
    silent = LaunchResult("r2", False, tmp_path / "w.duckdb", [], log)
    with pytest.raises(BackfireError, match="without a failure message; its log is") as caught:
        raise_for_failure(silent)
    assert "above" not in str(caught.value)


def test_logs_and_reports_are_named_after_their_warehouse(tmp_path: Path) -> None:
    """Two warehouses in one folder keep their own logs and reports."""
    a, b = tmp_path / "a.duckdb", tmp_path / "b.duckdb"
    assert logs_dir(a) == tmp_path / "a.logs" and reports_dir(a) == tmp_path / "a.reports"
    assert logs_dir(b) != logs_dir(a) and reports_dir(b) != reports_dir(a)


def test_score_with_langid_prints_fidelity_per_language_and_names_no_empty_v2_table(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import duckdb

    from cli.score import _print_marts

    db = tmp_path / "w.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute("create schema marts")
        con.execute("create table marts.run_metrics as select * from (values ('en', 0.9), ('en', 1.0), "
                    "('ja', 0.5), ('ja', null)) t(language, language_fidelity)")
    _print_marts(db, {"langid"}, None)
    out = capsys.readouterr().out
    assert "language fidelity" in out and "_v2" not in out
    rows = {line.split()[0]: [float(v) for v in line.split()[1:]] for line in out.splitlines()
            if line[:3] in ("en ", "ja ")}
    assert rows == {"en": [2, 2, 0.95, 0.9], "ja": [2, 1, 0.5, 0.5]}
    _print_marts(db, {"langid", "classifier"}, ["ja"])
    out = capsys.readouterr().out
    assert "backfire_by_language_v2" in out and "of classifier" in out and "en " not in out
