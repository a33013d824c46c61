"""Locating and opening the warehouse, and transactions on it. One writer at a time (DuckDB locks the file);
readers open read-only."""

from __future__ import annotations

import contextlib
import logging
import os
import time
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from core.errors import WarehouseError

if TYPE_CHECKING:
    import duckdb

DEFAULT_DB_PATH = "data/warehouse.duckdb"
DB_ENV_VAR = "BACKFIRE_DB"
LOCK_WAIT_ENV_VAR = "BACKFIRE_LOCK_WAIT_S"
DEFAULT_LOCK_WAIT_S = 60.0
STORAGE_VERSION = "v1.4.0"
"""The DuckDB storage format every warehouse is created with: DuckDB 1.4 LTS, the 1.5 CLI and later all read it
(DuckDB 2.0's default, 'latest', is unreadable to them). A file keeps the format it was created with; see
``warehouse.storage`` for rewriting an older 'latest' file (docs/architecture.md, Storage format)."""
DUCKDB_CONFIG = {"storage_compatibility_version": STORAGE_VERSION}
"""Config every writer passes when it opens a warehouse file (ours, dbt-duckdb's profile, the power pool)."""
logger = logging.getLogger(__name__)
_IN_TRANSACTION: weakref.WeakSet[duckdb.DuckDBPyConnection] = weakref.WeakSet()


def resolve_db_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    """``--db``, else ``BACKFIRE_DB``, else ``./data/warehouse.duckdb``; always absolute."""
    chosen = explicit or os.environ.get(DB_ENV_VAR) or DEFAULT_DB_PATH
    return Path(chosen).expanduser().resolve()


def logs_dir(db_path: str | os.PathLike[str]) -> Path:
    """``<folder>/<warehouse stem>.logs``: per warehouse, so two warehouses in one folder keep their own logs."""
    path = Path(db_path)
    return path.with_name(f"{path.stem}.logs")


def reports_dir(db_path: str | os.PathLike[str]) -> Path:
    """``<folder>/<warehouse stem>.reports``: the pipeline's report of each study, per warehouse (see logs_dir)."""
    path = Path(db_path)
    return path.with_name(f"{path.stem}.reports")


def lock_wait_seconds() -> float:
    try:
        return max(0.0, float(os.environ.get(LOCK_WAIT_ENV_VAR, DEFAULT_LOCK_WAIT_S)))
    except ValueError:
        return DEFAULT_LOCK_WAIT_S


def connect(path: str | os.PathLike[str] | None = None, *, read_only: bool = False,
            wait_s: float | None = None) -> duckdb.DuckDBPyConnection:
    """Open the warehouse; a read-only open of a missing file is a clear error, not an empty database.

    Another process holding the file's lock (a writer, or a reader while we want to write) is waited for up
    to ``wait_s`` (default ``BACKFIRE_LOCK_WAIT_S``, 60 s): short stage handovers between processes, e.g.
    dbt's subprocess or a multiprocess step, must not fail a run.
    """
    import duckdb

    db_path = resolve_db_path(path)
    if read_only and not db_path.is_file():
        raise WarehouseError("no warehouse here", file=str(db_path),
                             fix="run `backfire demo` or `backfire run STUDY` first, or pass --db PATH")
    if not read_only:
        db_path.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + (lock_wait_seconds() if wait_s is None else wait_s)
    delay = 0.05
    while True:
        try:
            return duckdb.connect(str(db_path), read_only=read_only, config=dict(DUCKDB_CONFIG))
        except duckdb.IOException as exc:
            require_duckdb_file(db_path)
            if "lock" in str(exc).lower() and time.monotonic() + delay < deadline:
                time.sleep(delay)
                delay = min(delay * 2, 1.0)
                continue
            raise WarehouseError(f"cannot open the warehouse ({exc})", file=str(db_path),
                                 fix="close other writers (a running job or dagster dev holds the lock) "
                                     f"and try again, or wait longer ({LOCK_WAIT_ENV_VAR})") from exc


DUCKDB_MAGIC = b"DUCK"
"""The bytes at offset 8 of every DuckDB database file."""


def _looks_like_duckdb(path: Path) -> bool:
    """Whether a file that failed to open is a DuckDB database (so the failure is a lock, not a wrong file);
    an empty or unreadable file gets the benefit of the doubt."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(12)
    except OSError:
        return True
    return not head or head[8:12] == DUCKDB_MAGIC


def require_duckdb_file(path: str | os.PathLike[str] | None = None) -> None:
    """Fail early, before any pipeline starts, when the warehouse path holds a file that is not DuckDB's.

    Raises:
        WarehouseError: the file exists and is not a DuckDB database (names the file and the fix).
    """
    db_path = resolve_db_path(path)
    if db_path.is_file() and not _looks_like_duckdb(db_path):
        raise WarehouseError("this file is not a DuckDB database", file=str(db_path),
                             fix="point --db (or BACKFIRE_DB) at a .duckdb warehouse, e.g. "
                                 f"{DEFAULT_DB_PATH}; a path that does not exist yet starts a new one")


def sql_path(path: str | os.PathLike[str]) -> str:
    """A file path as the inside of a SQL string literal (ATTACH, COPY): single quotes doubled."""
    return str(path).replace("'", "''")


def table_exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    """Whether ``schema.table`` exists (a warehouse may predate a table, or dbt may not have built it yet)."""
    row = con.execute("select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
                      [schema, table]).fetchone()
    return bool(row and row[0])


@contextlib.contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """One transaction on ``con``: committed when the block ends, rolled back when it raises.

    The exception that ended the block propagates; ``con`` stays usable. Transactions do not nest (DuckDB has
    no savepoints): opening one inside another on the same connection raises ``RuntimeError`` before anything
    is sent, and leaves the outer one as it was.

    Raises:
        RuntimeError: ``con`` is already inside a ``transaction`` block.
    """
    if con in _IN_TRANSACTION:
        raise RuntimeError("transaction(con) inside another transaction on the same connection: DuckDB cannot "
                           "nest transactions; do the inner writes in the outer block")
    con.execute("BEGIN TRANSACTION")
    _IN_TRANSACTION.add(con)
    try:
        yield con
    except BaseException:
        try:
            con.execute("ROLLBACK")
        except Exception as rollback_error:  # e.g. the block ended the transaction itself; keep the first error
            logger.warning("rollback after a failed transaction also failed: %s", rollback_error)
        raise
    else:
        con.execute("COMMIT")  # a commit that fails (a write conflict) ends the transaction and raises
    finally:
        _IN_TRANSACTION.discard(con)
