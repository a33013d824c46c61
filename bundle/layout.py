"""Where each part of a bundle lives, and which warehouse tables it carries: the contract between export and
import (``BUNDLE_SCHEMA_VERSION`` changes when it does)."""

from __future__ import annotations

BUNDLE_SCHEMA_VERSION = 1
"""Version of this layout; an importer refuses a bundle of a newer one (it could not know what it missed)."""

MANIFEST = "manifest.json"
DATAPACKAGE = "datapackage.json"
README = "README.md"
STUDY_FILE = "study.yaml"
PACKS_DIR = "packs"
CONFIG_DIR = "config"
REPORT_DIR = "report"
VIEWER_DIR = "viewer"

RAW_TABLES = ("studies", "content_packs", "runs", "agents", "utterances", "utterances_superseded", "scores")
"""The study's raw tables, always exported (``llm_calls`` only with ``--with-cache``)."""
CACHE_TABLE = "llm_calls"
TEXT_TABLES = ("utterances", "utterances_superseded")
"""Tables whose ``text`` column ``--no-text`` blanks (the scores, which the marts read, are kept)."""
REFERENCE_MARTS = ("language_pdi",)
"""Marts without a study column that a study's results read (reference data): exported whole."""
WAREHOUSE_WIDE_MARTS = ("scorer_coverage",)
"""Marts aggregated over every study of a warehouse: not part of one study's results, not exported."""
DESIGN_KEY_COLUMNS = ("study", "language", "model", "aligned_share", "individuation", "wording", "replicate",
                      "evaluation_date")
"""The columns of ``raw.runs`` that name a run by its cell of the design rather than by its hashed id: a
reproduction with changed packs gets new run ids for the same cells."""


def folder_name(schema: str, table: str) -> str:
    """``data/<schema>_<table>/``: one folder (and one Hugging Face config) per table, so
    ``load_dataset("parquet", data_dir=...)`` and ``read_parquet('data/<folder>/*.parquet')`` read one table."""
    return f"{schema}_{table}"


def table_path(schema: str, table: str) -> str:
    """The Parquet file of one table, relative to the bundle root."""
    name = folder_name(schema, table)
    return f"data/{name}/{name}.parquet"

EXECUTION_MARTS = ("usage_by_run", "usage_by_agent", "usage_by_language_model")
"""Call accounting (latency, tokens, cache hits): how a run was executed, not what it found. A reproduction
replays from the cache with other latencies, so its diff leaves these out (an import still compares them)."""
EXECUTION_COLUMNS = ("first_designed_at", "last_designed_at", "first_seen", "last_seen", "n_cache_hits")
"""Columns of result marts that record when or how rows were produced; a reproduction's diff ignores them."""
ITERATIVE_FIT_TOLERANCE = {"stats_models": 1e-6}
"""Marts whose floats come from iterative optimizers (the agent-level mixed model's REML fit): a rebuild feeds
them inputs that differ in the last bits (DuckDB's parallel float sums) and the optimizer's convergence
tolerance turns that into ~1e-8; every other mart is compared to 1e-12."""
