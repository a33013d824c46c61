"""Locating and opening the warehouse. One writer at a time (DuckDB locks the file); readers open read-only."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from simulation.errors import WarehouseError

if TYPE_CHECKING:
    import duckdb

DEFAULT_DB_PATH = "data/warehouse.duckdb"
DB_ENV_VAR = "BACKFIRE_DB"


def resolve_db_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    """``--db``, else ``BACKFIRE_DB``, else ``./data/warehouse.duckdb``; always absolute."""
    chosen = explicit or os.environ.get(DB_ENV_VAR) or DEFAULT_DB_PATH
    return Path(chosen).expanduser().resolve()


def connect(path: str | os.PathLike[str] | None = None, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open the warehouse; a read-only open of a missing file is a clear error, not an empty database."""
    import duckdb

    db_path = resolve_db_path(path)
    if read_only and not db_path.is_file():
        raise WarehouseError("no warehouse here", file=str(db_path),
                             fix="run `backfire demo` or `backfire run STUDY` first, or pass --db PATH")
    if not read_only:
        db_path.parent.mkdir(parents=True, exist_ok=True)
    try:
        return duckdb.connect(str(db_path), read_only=read_only)
    except duckdb.IOException as exc:
        raise WarehouseError(f"cannot open the warehouse ({exc})", file=str(db_path),
                             fix="close other writers (a running job or dagster dev holds the lock) "
                                 "and try again") from exc


def table_exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    """Whether ``schema.table`` exists (a warehouse may predate a table, or dbt may not have built it yet)."""
    row = con.execute("select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
                      [schema, table]).fetchone()
    return bool(row and row[0])
