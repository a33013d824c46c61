"""Language shards: each (study, language) partition writes its own DuckDB file, so languages play at once.

DuckDB has one writer per file, and a reader in another process blocks it too. A partition step therefore writes
only its **live** shard, ``<stem>.shards/live/<study>/<language>.duckdb`` (its runs and agents, utterances,
superseded turns, scores and the response cache, with the cache's journal beside it). When the step ends, it
**publishes** the shard: the closed file is copied to ``published/<study>/<language>.duckdb.tmp`` and renamed
over the published copy, which takes no lock, so a reader of a published shard never blocks a writer and always
sees a whole one. The marts step **gathers** every published shard whose generation main has not loaded yet into
main's plain ``raw.*`` tables (``warehouse.gather``), so dbt, the marts, ``query``, the viewer, bundles and DuckDB
1.4 clients see one complete single-file warehouse, as before.

``BACKFIRE_LAYOUT=single`` keeps everything in the main file (one writer at a time: languages serialise).
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from core.errors import BackfireError, WarehouseError
from warehouse.connection import connect, lock_wait_seconds, resolve_db_path, sql_path, transaction
from warehouse.raw_io import utc_now
from warehouse.schema import ensure_raw_schema

if TYPE_CHECKING:
    import duckdb

logger = logging.getLogger(__name__)
LAYOUT_ENV_VAR = "BACKFIRE_LAYOUT"
Layout = Literal["sharded", "single"]
LAYOUTS: tuple[Layout, ...] = ("sharded", "single")
SHARD_META = """
    study VARCHAR NOT NULL,
    language VARCHAR NOT NULL,
    generation BIGINT NOT NULL,
    published_at TIMESTAMPTZ,
    PRIMARY KEY (study, language)"""
"""``raw.shard_meta`` in a shard: what it holds and how many times it was published (gather's version)."""
ADOPTED_TABLES = ("studies", "runs", "agents", "utterances", "utterances_superseded", "scores")
"""Main's rows a new shard takes over for its (study, language), so a warehouse written before shards (or an
imported bundle) resumes instead of paying again; gather mirrors the same tables back."""


def layout(explicit: str | None = None) -> Layout:
    """``explicit``, else ``BACKFIRE_LAYOUT``, else ``sharded``.

    Raises:
        BackfireError: a value that is not a layout (names the variable and the fix).
    """
    chosen = (explicit or os.environ.get(LAYOUT_ENV_VAR) or "sharded").strip().lower()
    if chosen not in LAYOUTS:
        raise BackfireError(f"{LAYOUT_ENV_VAR}={chosen!r} is not a warehouse layout", field=LAYOUT_ENV_VAR,
                            fix="set it to sharded (languages write their own files and run at once) or single "
                                "(one file, one writer at a time), or unset it")
    return chosen  # type: ignore[return-value]  # checked above


def shards_dir(main: str | os.PathLike[str]) -> Path:
    """``<folder>/<warehouse stem>.shards``: beside the main file, like its logs and reports."""
    path = Path(main)
    return path.with_name(f"{path.stem}.shards")


def live_path(main: str | os.PathLike[str], study: str, language: str) -> Path:
    """The file the (study, language) partition writes; study names and language codes are path-safe (the study
    schema and the pack registry validate them)."""
    return shards_dir(main) / "live" / study / f"{language}.duckdb"


def published_path(main: str | os.PathLike[str], study: str, language: str) -> Path:
    return shards_dir(main) / "published" / study / f"{language}.duckdb"


def published_shards(main: str | os.PathLike[str]) -> list[Path]:
    return sorted((shards_dir(main) / "published").glob("*/*.duckdb"))


def live_shards(main: str | os.PathLike[str], language: str | None = None) -> list[Path]:
    return sorted((shards_dir(main) / "live").glob(f"*/{language or '*'}.duckdb"))


def shard_key(path: Path) -> tuple[str, str]:
    """(study, language) of a live or published shard file."""
    return path.parent.name, path.name.removesuffix(".duckdb")


def _adopt_from_main(con: duckdb.DuckDBPyConnection, main: Path, study: str, language: str) -> int:
    """Copy main's rows of (study, language) into a new shard; returns the utterances taken over."""
    if not main.is_file():
        return 0
    with connect(main, read_only=True) as probe:
        tables = {row[0] for row in probe.execute(
            "select table_name from information_schema.tables where table_schema = 'raw'").fetchall()}
        if "runs" not in tables or not probe.execute(
                "select count(*) from raw.runs where study = ? and language = ?", [study, language]).fetchone()[0]:
            return 0
    con.execute(f"ATTACH '{sql_path(main)}' AS backfire_main (READ_ONLY)")
    try:
        runs = "(select run_id from backfire_main.raw.runs where study = $1 and language = $2)"
        with transaction(con):
            for table in ADOPTED_TABLES:
                if table not in tables:
                    continue
                params = [study, language]
                if table == "studies":
                    where, params = "study = $1", [study]
                elif table == "scores":
                    where = (f"utterance_id in (select utterance_id from backfire_main.raw.utterances "
                             f"where run_id in {runs})")
                else:
                    where = f"run_id in {runs}"
                con.execute(f"insert or ignore into raw.{table} by name "
                            f"select * from backfire_main.raw.{table} where {where}", params)
        adopted = con.execute("select count(*) from raw.utterances").fetchone()[0]  # type: ignore[index]
    finally:
        con.execute("DETACH backfire_main")
    if adopted:
        logger.info("shard %s/%s took over %d stored utterances from %s", study, language, adopted, main)
    return int(adopted)


def open_live(main: str | os.PathLike[str], study: str, language: str) -> duckdb.DuckDBPyConnection:
    """The (study, language) shard for writing, created (and filled from main's rows) on first use."""
    main_path = resolve_db_path(main)
    con = connect(live_path(main_path, study, language))
    try:
        ensure_raw_schema(con)
        con.execute(f"CREATE TABLE IF NOT EXISTS raw.shard_meta ({SHARD_META})")
        # New until its meta row exists, which is written only once the takeover committed: a takeover cut
        # short is done again (its inserts ignore what is there), never skipped.
        if not con.execute("select count(*) from raw.shard_meta").fetchone()[0]:  # type: ignore[index]
            _adopt_from_main(con, main_path, study, language)
            con.execute("insert or ignore into raw.shard_meta values (?, ?, 0, null)", [study, language])
    except BaseException:
        con.close()
        raise
    return con


def publish(main: str | os.PathLike[str], study: str, language: str) -> Path:
    """Snapshot the closed live shard for readers: bump its generation, copy, rename over the old copy.

    A reader that opened the previous copy keeps reading it (the rename leaves its inode alone), so neither side
    ever waits for the other. Returns the published path.
    """
    main_path = resolve_db_path(main)
    source = live_path(main_path, study, language)
    with connect(source) as con:
        con.execute("update raw.shard_meta set generation = generation + 1, published_at = ? "
                    "where study = ? and language = ?", [utc_now(), study, language])
        con.execute("CHECKPOINT")
    target = published_path(main_path, study, language)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f"{target.name}.{os.getpid()}.tmp")
    shutil.copyfile(source, partial)
    os.replace(partial, target)
    return target


@contextlib.contextmanager
def writing(main: str | os.PathLike[str], study: str, language: str) -> Iterator[duckdb.DuckDBPyConnection]:
    """Write a (study, language) shard, then publish it, also when the block fails (what it stored counts)."""
    con = open_live(main, study, language)
    try:
        yield con
    finally:
        con.close()
        publish(main, study, language)


def open_published(main: str | os.PathLike[str], study: str, language: str) -> duckdb.DuckDBPyConnection | None:
    """A read-only connection to the published (study, language) shard; None when it was never published."""
    path = published_path(resolve_db_path(main), study, language)
    if not path.is_file():
        return None
    return connect(path, read_only=True, wait_s=lock_wait_seconds())


@contextlib.contextmanager
def read_freshest(main: str | os.PathLike[str], study: str,
                  language: str) -> Iterator[duckdb.DuckDBPyConnection | None]:
    """The newest readable copy of a (study, language) shard, for a reader outside the pipeline (``estimate``):
    the live file when no writer holds it (after a killed run it is newer than the published copy), else the
    published copy; None when the partition never wrote one."""
    main_path = resolve_db_path(main)
    con = None
    if live_path(main_path, study, language).is_file():
        with contextlib.suppress(WarehouseError):
            con = connect(live_path(main_path, study, language), read_only=True, wait_s=0)
    if con is None:
        con = open_published(main_path, study, language)
    try:
        yield con
    finally:
        if con is not None:
            con.close()
