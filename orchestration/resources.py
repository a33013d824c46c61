"""Resources: where the warehouse is and which study the run materializes. Env is read at run time."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from dagster import ConfigurableResource
from pydantic import Field

from core.study import RunOverrides, Study, load_study
from scoring import check_scorers
from warehouse import shards
from warehouse.connection import DB_ENV_VAR, connect, resolve_db_path, table_exists
from warehouse.schema import ensure_raw_schema
from warehouse.shards import layout

if TYPE_CHECKING:
    import duckdb

    from warehouse.gather import GatherStats

STUDY_ENV_VAR = "BACKFIRE_STUDY"
DUCKDB_WRITER_POOL = "duckdb_writer"
"""Every step that opens the main warehouse file (writers, and readers: checks, report, alerts) is in this pool,
which dagster.yaml limits to 1: DuckDB has one writer, and a reader in another process blocks it too."""
PARTITION_POOL = DUCKDB_WRITER_POOL if layout() == "single" else None
"""The pool of the language-partitioned steps and checks: none in the sharded layout (each partition writes its
own file, so partitions run at once), the main file's pool in the single layout. Read when the definitions load."""
DEFAULT_STUDY = str(Path(__file__).resolve().parents[1] / "studies" / "demo.yaml")
"""The project's demo study, by absolute path: commands that use it only as a label (``scorers evaluate``,
``marts``, ``score``) then work from any directory."""


class WarehouseResource(ConfigurableResource):
    """The DuckDB file; one writer at a time, so assets open, write and close."""

    db_path: str | None = Field(default=None, description="Path of the DuckDB file; else BACKFIRE_DB, "
                                "else ./data/warehouse.duckdb.")

    @property
    def path(self) -> Path:
        return resolve_db_path(self.db_path)

    def writer(self) -> duckdb.DuckDBPyConnection:
        con = connect(self.path)
        ensure_raw_schema(con)
        return con

    def reader(self) -> duckdb.DuckDBPyConnection:
        return connect(self.path, read_only=True)

    @property
    def sharded(self) -> bool:
        return layout() == "sharded"

    @contextlib.contextmanager
    def partition_writer(self, study: str, language: str) -> Iterator[duckdb.DuckDBPyConnection]:
        """Where a (study, language) partition writes: its own shard, published when the block ends (sharded
        layout), or the main file."""
        if self.sharded:
            with shards.writing(self.path, study, language) as con:
                yield con
        else:
            with self.writer() as con:
                yield con

    @contextlib.contextmanager
    def partition_reader(self, study: str, language: str) -> Iterator[duckdb.DuckDBPyConnection | None]:
        """What a (study, language) partition's checks read: its published shard (None before the first publish),
        or the main file."""
        if self.sharded:
            con = shards.open_published(self.path, study, language)
            try:
                yield con
            finally:
                if con is not None:
                    con.close()
        else:
            with self.reader() as con:
                yield con

    def partition_studies(self, language: str) -> list[str]:
        """Every study with runs in ``language``: in main (written before shards, or imported) or in a shard."""
        studies = {shards.shard_key(path)[0] for path in shards.live_shards(self.path, language)}
        if self.path.is_file():
            with self.reader() as con:
                if table_exists(con, "raw", "runs"):
                    studies.update(row[0] for row in con.execute(
                        "select distinct study from raw.runs where language = ?", [language]).fetchall())
        return sorted(studies)

    @property
    def cache_fallback(self) -> Path | None:
        """Main's response cache answers a shard's misses (another study's calls, an imported bundle's cache)."""
        return self.path if self.sharded else None

    def gather(self) -> GatherStats:
        """Load the published shards that changed into main (a no-op in the single layout)."""
        from warehouse.gather import GatherStats, gather_shards

        if not self.sharded:
            return GatherStats()
        with self.writer() as con:
            return gather_shards(con, self.path)

    @contextlib.contextmanager
    def dbt_env(self) -> Iterator[None]:
        """dbt runs as a subprocess and finds the warehouse through BACKFIRE_DB: set it while the subprocess
        starts, then restore it (a process-wide change would leak into the next run of another warehouse)."""
        before = os.environ.get(DB_ENV_VAR)
        os.environ[DB_ENV_VAR] = str(self.path)
        try:
            yield
        finally:
            if before is None:
                os.environ.pop(DB_ENV_VAR, None)
            else:
                os.environ[DB_ENV_VAR] = before


class StudyResource(ConfigurableResource, RunOverrides):
    """The study a run materializes, with the command's ``RunOverrides`` (the same fields, declared once in
    ``core.study``); the same for every asset of the run."""

    study_path: str | None = Field(default=None, description="Study YAML; else BACKFIRE_STUDY, else "
                                   "studies/demo.yaml.")

    @property
    def path(self) -> str:
        return self.study_path or os.environ.get(STUDY_ENV_VAR) or DEFAULT_STUDY

    @property
    def overrides(self) -> RunOverrides:
        return RunOverrides.model_validate(self.set_fields())

    def load(self) -> Study:
        """The study with the overrides applied, its scorers checked against the scoring registry (so a bad
        scorer fails the launch and the first stage, not the scoring stage after the simulation spent)."""
        study = self.overrides.apply(load_study(self.path), source=self.path)
        check_scorers(study.scorers, self.path)
        return study
