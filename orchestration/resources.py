"""Resources: where the warehouse is and which study the run materializes. Env is read at run time."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import TYPE_CHECKING

from dagster import ConfigurableResource
from pydantic import Field

from core.study import Study, apply_overrides, load_study
from scoring import check_scorers
from warehouse.connection import DB_ENV_VAR, connect, resolve_db_path
from warehouse.schema import ensure_raw_schema

if TYPE_CHECKING:
    import duckdb

STUDY_ENV_VAR = "BACKFIRE_STUDY"
DUCKDB_WRITER_POOL = "duckdb_writer"
"""Every step that opens the warehouse (writers, and readers: checks, report, alerts) is in this pool, which
dagster.yaml limits to 1: DuckDB has one writer, and a reader in another process blocks it too."""
DEFAULT_STUDY = "studies/demo.yaml"


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

    def export_env(self) -> None:
        """dbt runs as a subprocess and finds the warehouse through BACKFIRE_DB."""
        os.environ[DB_ENV_VAR] = str(self.path)


class StudyResource(ConfigurableResource):
    """The study a run materializes, with the CLI's overrides; the same for every asset of the run."""

    study_path: str | None = Field(default=None, description="Study YAML; else BACKFIRE_STUDY, else "
                                   "studies/demo.yaml.")
    languages: list[str] | None = Field(default=None, description="Override design.languages.")
    replicates: int | None = Field(default=None, description="Override design.replicates.")
    backend: str | None = Field(default=None, description="Override every model's backend (e.g. synthetic).")
    model: str | None = Field(default=None, description="Run this one model instead of the study's list.")
    base_url: str | None = Field(default=None, description="OpenAI-compatible endpoint for the models.")
    api_key_env: str | None = Field(default=None, description="NAME of the environment variable with the key.")
    concurrency: int | None = Field(default=None, description="Calls in flight per model endpoint.")
    no_cache: bool = Field(default=False, description="Do not read the response cache (answers are still "
                           "written to it).")
    keep_failed_turns: bool = Field(default=False, description="Do not play again turns whose calls finally "
                                    "failed; by default they (and the turns after them) are retried.")
    evaluation_date: str | None = Field(default=None, description="ISO date of a dated (nightly) evaluation.")
    max_cost_usd: float | None = Field(default=None, description="Override budget.max_cost_usd (the CLI passes "
                                       "what is left of the command's budget to each language).")
    max_calls: int | None = Field(default=None, description="Override budget.max_calls (as max_cost_usd).")

    def load(self) -> Study:
        """The study with the overrides applied, its scorers checked against the scoring registry (so a bad
        scorer fails the launch and the first stage, not the scoring stage after the simulation spent)."""
        path = self.study_path or os.environ.get(STUDY_ENV_VAR) or DEFAULT_STUDY
        study = apply_overrides(load_study(path), languages=self.languages, replicates=self.replicates,
                                backend=self.backend, model=self.model, base_url=self.base_url,
                                api_key_env=self.api_key_env, concurrency=self.concurrency, source=path)
        check_scorers(study.scorers, path)
        if self.evaluation_date:
            study = study.model_copy(update={"evaluation_date": dt.date.fromisoformat(self.evaluation_date)})
        limits = {key: value for key, value in (("max_cost_usd", self.max_cost_usd), ("max_calls", self.max_calls))
                  if value is not None}
        if limits:
            study = study.model_copy(update={"budget": study.budget.model_copy(update=limits)})
        return study
