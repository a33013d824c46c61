"""``warehouse.transaction``: commit on success, rollback on an exception, no silent nesting."""

from __future__ import annotations

import duckdb
import pytest

from warehouse import transaction


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect()
    connection.execute("create table t (id integer primary key, v varchar)")
    connection.execute("insert into t values (1, 'kept')")
    return connection


def _rows(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    return con.execute("select * from t order by id").fetchall()


def test_a_block_that_ends_normally_is_committed(con: duckdb.DuckDBPyConnection) -> None:
    with transaction(con):
        con.execute("insert into t values (2, 'new')")
    assert _rows(con) == [(1, "kept"), (2, "new")]


def test_an_exception_rolls_back_every_write_and_the_connection_stays_usable(con: duckdb.DuckDBPyConnection) -> None:
    with pytest.raises(ZeroDivisionError), transaction(con):
        con.execute("insert into t values (2, 'new')")
        con.execute("update t set v = 'changed' where id = 1")
        _ = 1 / 0
    assert _rows(con) == [(1, "kept")]
    with pytest.raises(duckdb.ConstraintException), transaction(con):  # a failing statement aborts DuckDB's side
        con.execute("insert into t values (3, 'new')")
        con.execute("insert into t values (1, 'duplicate')")
    assert _rows(con) == [(1, "kept")]
    with transaction(con):
        con.execute("insert into t values (4, 'after')")
    assert _rows(con) == [(1, "kept"), (4, "after")]


def test_nesting_is_refused_before_anything_is_sent_and_the_outer_block_decides(
        con: duckdb.DuckDBPyConnection) -> None:
    with transaction(con):
        con.execute("insert into t values (2, 'outer')")
        with pytest.raises(RuntimeError, match="cannot nest"), transaction(con):
            con.execute("insert into t values (3, 'inner')")  # never reached
        con.execute("insert into t values (4, 'outer again')")  # the outer transaction is intact
    assert _rows(con) == [(1, "kept"), (2, "outer"), (4, "outer again")]
    with transaction(con.cursor()) as other, transaction(con):  # another cursor is another transaction
        other.execute("insert into t values (5, 'cursor')")
    assert (5, "cursor") in _rows(con)
