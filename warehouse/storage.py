"""The warehouse file's storage format: which DuckDB clients can open it, and rewriting an older file so that
DuckDB 1.4 LTS and the 1.5 CLI can.

DuckDB 2.0 writes new files in its 'latest' format unless told otherwise; 1.x clients refuse those ("Trying to
read a database file with version number 999"). ``warehouse.connection`` creates every file in
``STORAGE_VERSION``; a file keeps the format it was created with, so warehouses made before that stay 'latest'
(they keep working with the pinned DuckDB) until ``rewrite_storage`` copies them into the readable format.
"""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING

from core.errors import WarehouseError
from warehouse.connection import STORAGE_VERSION, resolve_db_path, sql_path

if TYPE_CHECKING:
    import duckdb

logger = logging.getLogger(__name__)


def storage_version(con: duckdb.DuckDBPyConnection) -> str:
    """The storage format of the connection's database file, as DuckDB tags it (``v1.4.0+``, ``v2.0.0+``)."""
    row = con.execute("select tags['storage_version'] from duckdb_databases() "
                      "where database_name = current_database()").fetchone()
    return str(row[0]) if row and row[0] else "unknown"


def readable_by_duckdb_1x(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether DuckDB 1.4 and later can open the file (its format is not newer than ``STORAGE_VERSION``)."""
    return _version_tuple(storage_version(con)) <= _version_tuple(STORAGE_VERSION)


def _version_tuple(tag: str) -> tuple[int, ...]:
    digits = tag.lstrip("v").rstrip("+").split(".")
    try:
        return tuple(int(part) for part in digits)
    except ValueError:
        return (999,)  # unknown: treat as newer than anything a 1.x client reads


def rewrite_storage(path: str | os.PathLike[str] | None = None) -> bool:
    """Copy a warehouse written in a newer storage format into ``STORAGE_VERSION``, in place.

    Every schema, table, view and sequence is copied (``COPY FROM DATABASE``) into a new file beside it, which
    then replaces the old one atomically; the old file is never half-written. A file already readable is left
    alone.

    Returns:
        Whether the file was rewritten.

    Raises:
        WarehouseError: the file is missing or locked by another process.
    """
    import duckdb

    db_path = resolve_db_path(path)
    if not db_path.is_file():
        raise WarehouseError("no warehouse here", file=str(db_path), fix="pass --db PATH of an existing warehouse")
    try:
        con = duckdb.connect(str(db_path))
    except duckdb.IOException as exc:
        raise WarehouseError(f"cannot open the warehouse to rewrite it ({exc})", file=str(db_path),
                             fix="close other writers (a running job or dagster dev) and try again") from exc
    tmp = db_path.with_name(db_path.name + ".rewrite")
    try:
        if readable_by_duckdb_1x(con):
            return False
        old = storage_version(con)
        tmp.unlink(missing_ok=True)
        con.execute(f"attach '{sql_path(tmp)}' as rewritten (storage_version '{STORAGE_VERSION}')")
        con.execute(f"copy from database {_quoted(con)} to rewritten")
        con.execute("detach rewritten")
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    finally:
        con.close()
    wal = db_path.with_name(db_path.name + ".wal")
    wal.unlink(missing_ok=True)  # closed cleanly above: the WAL was checkpointed into the old file
    os.replace(tmp, db_path)
    logger.warning("rewrote %s from storage %s to %s so DuckDB 1.4 and later can open it", db_path, old,
                   STORAGE_VERSION)
    return True


def _quoted(con: duckdb.DuckDBPyConnection) -> str:
    row = con.execute("select current_database()").fetchone()
    return '"' + str(row[0] if row else "memory").replace('"', '""') + '"'


