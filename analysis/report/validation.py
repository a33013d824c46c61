"""The report's "Scorer validation" section: per scorer, the F1 per language on the gold test half (a warning
wherever it is below 0.7) and the differential error check's flags. Empty before any evaluation."""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING, Any

from analysis.scorer_validation import f1_rows, register_rows

if TYPE_CHECKING:
    import duckdb

F1_SHOWN = ["language", "n", "f1", "pathology_precision", "pathology_recall", "protective_precision",
            "protective_recall", "accuracy", "kappa", "negated_accuracy", "quoted_accuracy", "n_disagreed",
            "gold_kappa_label", "f1_warning"]
REGISTER_SHOWN = ["language", "n_sensitive", "error_rate_sensitive", "n_rest", "error_rate_rest", "difference",
                  "ci_low", "ci_high", "margin", "flagged"]


def validation_section(con: duckdb.DuckDBPyConnection, *, split: str = "test") -> str:
    """HTML of the section, or "" when no scorer has been evaluated (``backfire scorers evaluate``)."""
    from analysis.report.html import html_table

    f1 = f1_rows(con, split=split)
    if not f1:
        return ""
    registers = register_rows(con, split=split)
    parts = ["<h2>Scorer validation</h2>",
             f"<p class='meta'>Each scorer against the gold-labelled validation set, {escape(split)} half "
             "(marts.scorer_validation; docs/metrics.md). F1 = macro F1 of pathology and protective (neutral is the "
             "negative class); only sentences whose two labellers agree enter (A≠B: the others). acc negated / "
             "acc quoted: label accuracy on negated markers and on quoted or echoed text.</p>"]
    for scorer, version in dict.fromkeys((r["scorer"], r["scorer_version"]) for r in f1):
        rows = [r for r in f1 if (r["scorer"], r["scorer_version"]) == (scorer, version)]
        parts.append(f"<h3>{escape(scorer)} v{escape(str(version))}</h3>")
        below = [r["language"] for r in rows if r["f1_warning"]]
        if below:
            parts.append(f"<p class='banner'>Warning: F1 below 0.7 in {escape(', '.join(below))}. Effects measured "
                         "with this scorer in these languages rest on an instrument that misreads them.</p>")
        parts.append(html_table(rows, F1_SHOWN))
        mine = [r for r in registers if (r["scorer"], r["scorer_version"]) == (scorer, version)]
        flagged = [r["language"] for r in mine if r["flagged"]]
        parts.append(_register_note(flagged, mine))
        parts.append(html_table(mine, REGISTER_SHOWN))
    return "\n".join(parts)


def _register_note(flagged: list[str], rows: list[dict[str, Any]]) -> str:
    margin = rows[0]["margin"] if rows else 0.10
    intro = ("Differential error: label error rate on the registers aligned agents use more (negated markers, "
             "quotes and echoes, hedged refusals, condemning by quoting) against the rest, with the Newcombe 95% "
             f"CI of the difference; flagged when it differs by more than {margin:g}.")
    if flagged:
        return (f"<p class='disagree'>{escape(intro)} Flagged in {escape(', '.join(flagged))}: this scorer's "
                "error depends on the register, so it can create or hide a backfire there.</p>")
    return f"<p class='meta'>{escape(intro)} No language flagged.</p>"
