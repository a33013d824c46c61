"""Scorer validation as the CLI, the report and Dagster show it: per scorer and language, the F1 with its
parts and the hard-case accuracy, and the differential error check, read from the marts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from warehouse.connection import table_exists

if TYPE_CHECKING:
    import duckdb

F1_COLUMNS = ("scorer", "scorer_version", "language", "n", "f1", "pathology_precision", "pathology_recall",
              "protective_precision", "protective_recall", "accuracy", "kappa", "negated_accuracy",
              "quoted_accuracy", "n_disagreed", "n_abstained", "gold_kappa_label", "f1_warning")
"""One row per (scorer, scorer_version, language) of the latest evaluation on a split."""
REGISTER_COLUMNS = ("scorer", "scorer_version", "language", "n_sensitive", "error_rate_sensitive", "n_rest",
                    "error_rate_rest", "difference", "ci_low", "ci_high", "margin", "flagged")

_F1_QUERY = """
    select scorer, scorer_version, language,
           max(n) filter (where breakdown = 'overall') as n,
           max(f1) filter (where breakdown = 'overall') as f1,
           max(precision) filter (where breakdown = 'label' and category = 'pathology') as pathology_precision,
           max(recall) filter (where breakdown = 'label' and category = 'pathology') as pathology_recall,
           max(precision) filter (where breakdown = 'label' and category = 'protective') as protective_precision,
           max(recall) filter (where breakdown = 'label' and category = 'protective') as protective_recall,
           max(accuracy) filter (where breakdown = 'overall') as accuracy,
           max(kappa) filter (where breakdown = 'overall') as kappa,
           max(accuracy) filter (where breakdown = 'hard_case' and category = 'negated_marker') as negated_accuracy,
           max(accuracy) filter (where breakdown = 'hard_case' and category = 'quoted_or_echoed') as quoted_accuracy,
           max(n_disagreed) filter (where breakdown = 'overall') as n_disagreed,
           max(n_abstained) filter (where breakdown = 'overall') as n_abstained,
           max(gold_kappa_label) filter (where breakdown = 'overall') as gold_kappa_label,
           bool_or(f1_warning) as f1_warning
    from (
        -- the newest evaluation of each scorer and language: an edited lexicon has a new model_id, and its
        -- older evaluation stays is_latest for the old model_id
        select *, evaluated_at = max(evaluated_at) over (partition by scorer, scorer_version, language) as newest
        from marts.scorer_validation
        where is_latest and split = ? {where}
    )
    where newest
    group by scorer, scorer_version, language
    order by scorer, scorer_version, language"""


def _scorer_filter(scorers: Sequence[tuple[str, str]] | None) -> tuple[str, list[Any]]:
    if not scorers:
        return "", []
    clause = " or ".join("(scorer = ? and scorer_version = ?)" for _ in scorers)
    return f"and ({clause})", [value for pair in scorers for value in pair]


def f1_rows(con: duckdb.DuckDBPyConnection, *, split: str = "test",
            scorers: Sequence[tuple[str, str]] | None = None) -> list[dict[str, Any]]:
    """Per (scorer, version, language): F1 and its parts on the latest evaluation; [] before any evaluation."""
    if not table_exists(con, "marts", "scorer_validation"):
        return []
    where, params = _scorer_filter(scorers)
    cursor = con.execute(_F1_QUERY.format(where=where), [split, *params])
    return [dict(zip(F1_COLUMNS, row, strict=True)) for row in cursor.fetchall()]


def register_rows(con: duckdb.DuckDBPyConnection, *, split: str = "test",
                  scorers: Sequence[tuple[str, str]] | None = None) -> list[dict[str, Any]]:
    """The differential error check of the latest evaluations, languages first, the pooled ``all`` last."""
    if not table_exists(con, "marts", "scorer_register_errors"):
        return []
    where, params = _scorer_filter(scorers)
    cursor = con.execute(f"""select {', '.join(REGISTER_COLUMNS)} from marts.scorer_register_errors
                             where is_latest and split = ? {where}
                             qualify evaluated_at = max(evaluated_at) over (partition by scorer, scorer_version,
                                                                              language)
                             order by scorer, scorer_version, language = 'all', language""", [split, *params])
    return [dict(zip(REGISTER_COLUMNS, row, strict=True)) for row in cursor.fetchall()]
