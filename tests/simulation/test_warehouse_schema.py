from __future__ import annotations

import duckdb

from warehouse.schema import ensure_raw_schema


def test_an_older_warehouse_gains_new_columns_and_keeps_its_rows() -> None:
    con = duckdb.connect()
    con.execute("create schema raw")
    con.execute("create table raw.runs (run_id varchar primary key, study varchar)")
    con.execute("insert into raw.runs values ('r1', 's')")
    ensure_raw_schema(con)
    assert con.execute("select run_id, study, probe_turns from raw.runs").fetchall() == [("r1", "s", [])]
    ensure_raw_schema(con)  # idempotent
