"""DDL of the raw schema: the contract the Python stages write and dbt reads (docs/architecture.md, Storage)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.study import (
    DEFAULT_ALPHA,
    DEFAULT_EXCLUDE_STATUSES,
    DEFAULT_MAX_EXCLUSION_DIFFERENCE,
    DEFAULT_MAX_TRUNCATED_SHARE,
    DEFAULT_METRIC_SPEC,
    DEFAULT_MIN_LANGUAGE_FIDELITY,
    DEFAULT_P_ADJUST,
)

if TYPE_CHECKING:
    import duckdb

_UTTERANCE_COLUMNS = """
        run_id VARCHAR NOT NULL,
        turn INTEGER NOT NULL,
        agent_idx INTEGER NOT NULL,
        channel VARCHAR NOT NULL,
        text VARCHAR NOT NULL,
        status VARCHAR NOT NULL,
        error VARCHAR,
        tokens_in INTEGER,
        tokens_out INTEGER,
        latency_ms DOUBLE,
        cache_hit BOOLEAN NOT NULL,
        model VARCHAR NOT NULL,
        backend VARCHAR NOT NULL,
        created_at TIMESTAMPTZ NOT NULL,
        reasks INTEGER,
        cost_usd DOUBLE,
        served_model VARCHAR,
        system_fingerprint VARCHAR"""

RAW_TABLES: dict[str, str] = {
    "studies": """
        study VARCHAR PRIMARY KEY,
        config_json VARCHAR NOT NULL,
        config_hash VARCHAR NOT NULL,
        replication_target VARCHAR,
        zscore_reference VARCHAR NOT NULL,
        updated_at TIMESTAMPTZ NOT NULL,
        exclude_statuses VARCHAR[] NOT NULL,
        max_exclusion_difference DOUBLE NOT NULL,
        max_truncated_share DOUBLE NOT NULL,
        min_language_fidelity DOUBLE NOT NULL,
        p_adjust VARCHAR NOT NULL,
        alpha DOUBLE NOT NULL,
        metric_spec VARCHAR NOT NULL DEFAULT 'v1'""",
    "content_packs": """
        language VARCHAR NOT NULL,
        content_hash VARCHAR NOT NULL,
        pack_version VARCHAR NOT NULL,
        lexicon_version VARCHAR NOT NULL,
        script VARCHAR NOT NULL,
        segmentation VARCHAR NOT NULL,
        provenance_method VARCHAR NOT NULL,
        provenance_author VARCHAR NOT NULL,
        provenance_source VARCHAR,
        back_translation_checked BOOLEAN,
        reviewed_by VARCHAR,
        n_personas INTEGER NOT NULL,
        n_events INTEGER NOT NULL,
        n_lexicon_entries INTEGER NOT NULL,
        PRIMARY KEY (language, content_hash)""",
    "runs": """
        run_id VARCHAR PRIMARY KEY,
        study VARCHAR NOT NULL,
        language VARCHAR NOT NULL,
        model VARCHAR NOT NULL,
        backend VARCHAR NOT NULL,
        aligned_share DOUBLE NOT NULL,
        k_aligned INTEGER NOT NULL,
        n_agents INTEGER NOT NULL,
        n_turns INTEGER NOT NULL,
        individuation BOOLEAN NOT NULL,
        n_individuated INTEGER NOT NULL,
        replicate INTEGER NOT NULL,
        seed BIGINT NOT NULL,
        scenario VARCHAR NOT NULL,
        content_hash VARCHAR NOT NULL,
        history_window INTEGER NOT NULL,
        probe_turns INTEGER[] NOT NULL DEFAULT [],
        evaluation_date DATE,
        synthetic BOOLEAN NOT NULL,
        created_at TIMESTAMPTZ NOT NULL,
        planted_cpi_direction VARCHAR,
        planted_di_direction VARCHAR,
        requested_model VARCHAR,
        temperature DOUBLE,
        top_p DOUBLE,
        max_tokens INTEGER,
        decoding_seed BIGINT""",
    "agents": """
        run_id VARCHAR NOT NULL,
        agent_idx INTEGER NOT NULL,
        persona_id VARCHAR NOT NULL,
        aligned BOOLEAN NOT NULL,
        individuated BOOLEAN NOT NULL,
        PRIMARY KEY (run_id, agent_idx)""",
    "utterances": f"""
        utterance_id VARCHAR PRIMARY KEY,{_UTTERANCE_COLUMNS}""",
    # Turns a rerun moved aside to play again; a turn superseded twice keeps both versions.
    "utterances_superseded": f"""
        utterance_id VARCHAR NOT NULL,{_UTTERANCE_COLUMNS},
        superseded_at TIMESTAMPTZ NOT NULL,
        PRIMARY KEY (utterance_id, superseded_at)""",
    "llm_calls": """
        call_key VARCHAR PRIMARY KEY,
        model VARCHAR NOT NULL,
        endpoint VARCHAR NOT NULL,
        response_text VARCHAR NOT NULL,
        status VARCHAR NOT NULL,
        tokens_in INTEGER,
        tokens_out INTEGER,
        latency_ms DOUBLE,
        created_at TIMESTAMPTZ NOT NULL,
        cost_usd DOUBLE,
        served_model VARCHAR,
        system_fingerprint VARCHAR""",
    "scores": """
        utterance_id VARCHAR NOT NULL,
        scorer VARCHAR NOT NULL,
        scorer_version VARCHAR NOT NULL,
        model_id VARCHAR NOT NULL,
        dimension VARCHAR NOT NULL,
        value DOUBLE,
        abstained BOOLEAN NOT NULL,
        created_at TIMESTAMPTZ NOT NULL,
        PRIMARY KEY (utterance_id, scorer, scorer_version, dimension)""",
    # `backfire scorers evaluate`: a scorer against the gold validation set (docs/metrics.md); a rerun of the same
    # scorer version on the same gold files replaces its rows.
    "scorer_validation": """
        scorer VARCHAR NOT NULL,
        scorer_version VARCHAR NOT NULL,
        model_id VARCHAR NOT NULL,
        language VARCHAR NOT NULL,
        split VARCHAR NOT NULL,
        gold_hash VARCHAR NOT NULL,
        breakdown VARCHAR NOT NULL,
        category VARCHAR NOT NULL,
        n INTEGER,
        n_correct INTEGER,
        tp INTEGER,
        fp INTEGER,
        fn INTEGER,
        precision DOUBLE,
        recall DOUBLE,
        f1 DOUBLE,
        accuracy DOUBLE,
        kappa DOUBLE,
        n_abstained INTEGER,
        n_disagreed INTEGER,
        gold_kappa_label DOUBLE,
        gold_kappa_subcategory DOUBLE,
        evaluated_at TIMESTAMPTZ NOT NULL,
        PRIMARY KEY (scorer, scorer_version, model_id, language, split, gold_hash, breakdown, category)""",
    "scorer_register_errors": """
        scorer VARCHAR NOT NULL,
        scorer_version VARCHAR NOT NULL,
        model_id VARCHAR NOT NULL,
        language VARCHAR NOT NULL,
        split VARCHAR NOT NULL,
        gold_hash VARCHAR NOT NULL,
        n_sensitive INTEGER NOT NULL,
        errors_sensitive INTEGER NOT NULL,
        n_rest INTEGER NOT NULL,
        errors_rest INTEGER NOT NULL,
        error_rate_sensitive DOUBLE,
        error_rate_rest DOUBLE,
        difference DOUBLE,
        ci_low DOUBLE,
        ci_high DOUBLE,
        margin DOUBLE NOT NULL,
        flagged BOOLEAN NOT NULL,
        evaluated_at TIMESTAMPTZ NOT NULL,
        PRIMARY KEY (scorer, scorer_version, model_id, language, split, gold_hash)""",
}


# Columns added after a table first shipped: (table, column, type with default). Older warehouses gain them.
# A study recorded before its analysis and quality settings were gets the defaults until it is run again.
ADDED_COLUMNS: list[tuple[str, str, str]] = [
    ("studies", "exclude_statuses", f"VARCHAR[] DEFAULT {list(DEFAULT_EXCLUDE_STATUSES)!r}"),
    ("studies", "max_exclusion_difference", f"DOUBLE DEFAULT {DEFAULT_MAX_EXCLUSION_DIFFERENCE!r}"),
    ("studies", "max_truncated_share", f"DOUBLE DEFAULT {DEFAULT_MAX_TRUNCATED_SHARE!r}"),
    ("studies", "min_language_fidelity", f"DOUBLE DEFAULT {DEFAULT_MIN_LANGUAGE_FIDELITY!r}"),
    ("studies", "p_adjust", f"VARCHAR DEFAULT '{DEFAULT_P_ADJUST}'"),
    ("studies", "alpha", f"DOUBLE DEFAULT {DEFAULT_ALPHA!r}"),
    ("studies", "metric_spec", f"VARCHAR DEFAULT '{DEFAULT_METRIC_SPEC}'"),
    ("runs", "probe_turns", "INTEGER[] DEFAULT []"),
    ("runs", "planted_cpi_direction", "VARCHAR"),
    ("runs", "wording", "VARCHAR DEFAULT 'base'"),
    ("runs", "planted_di_direction", "VARCHAR"),
    ("utterances", "reasks", "INTEGER"),
    ("utterances", "cost_usd", "DOUBLE"),
    ("llm_calls", "cost_usd", "DOUBLE"),
    ("content_packs", "provenance_source", "VARCHAR"),
    ("content_packs", "back_translation_checked", "BOOLEAN"),
    ("content_packs", "reviewed_by", "VARCHAR"),
    # Provenance (what was asked for and what was served); NULL on rows written before it was recorded.
    ("runs", "requested_model", "VARCHAR"),
    ("runs", "temperature", "DOUBLE"),
    ("runs", "top_p", "DOUBLE"),
    ("runs", "max_tokens", "INTEGER"),
    ("runs", "decoding_seed", "BIGINT"),
    ("utterances", "served_model", "VARCHAR"),
    ("utterances", "system_fingerprint", "VARCHAR"),
    ("utterances_superseded", "served_model", "VARCHAR"),
    ("utterances_superseded", "system_fingerprint", "VARCHAR"),
    ("llm_calls", "served_model", "VARCHAR"),
    ("llm_calls", "system_fingerprint", "VARCHAR"),
]


def ensure_raw_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create the raw schema and tables if missing, and add later columns; never drops or rewrites data."""
    con.execute("CREATE SCHEMA IF NOT EXISTS raw")
    for table, columns in RAW_TABLES.items():
        con.execute(f"CREATE TABLE IF NOT EXISTS raw.{table} ({columns})")
    for table, column, kind in ADDED_COLUMNS:
        con.execute(f"ALTER TABLE raw.{table} ADD COLUMN IF NOT EXISTS {column} {kind}")
