"""Idempotent writes into raw tables: rows whose key exists are skipped, so a rerun never duplicates."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import duckdb


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _insert(con: duckdb.DuckDBPyConnection, verb: str, table: str, rows: Sequence[dict[str, Any]]) -> int:
    if not rows:
        return 0
    import pandas as pd

    incoming = pd.DataFrame.from_records(list(rows))  # noqa: F841 - read by DuckDB's replacement scan below
    # A statement (unlike ``register``) first finishes any result a caller left half-fetched on ``con``.
    result = con.execute(f"{verb} INTO {table} BY NAME SELECT * FROM incoming").fetchall()
    return int(result[0][0]) if result else 0


def insert_ignore(con: duckdb.DuckDBPyConnection, table: str, rows: Sequence[dict[str, Any]]) -> int:
    """Insert ``rows`` by column name; existing keys are kept untouched. Returns rows actually inserted."""
    return _insert(con, "INSERT OR IGNORE", table, rows)


def upsert(con: duckdb.DuckDBPyConnection, table: str, rows: Sequence[dict[str, Any]]) -> int:
    """Insert or replace by primary key, for small descriptive tables (e.g. a study's latest config)."""
    return _insert(con, "INSERT OR REPLACE", table, rows)
