"""Scorer against gold: precision, recall, F1, accuracy and kappa per language, category and hard case, and the
differential error check (does the scorer err more on the registers aligned agents use more?).

Only sentences whose two labels agree, and that the scorer did not abstain on, enter; the others are counted.
A language's F1 (``breakdown = 'overall'``) is the macro F1 of ``pathology`` and ``protective`` (neutral is
the negative class): the number the report warns on below 0.7.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from scoring.validation.agreement import cohen_kappa
from scoring.validation.gold import HARD_CASES, LABELS, SUBCATEGORIES, GoldSentence
from scoring.validation.stance import Stance

F1_WARNING = 0.7
"""A language whose F1 is below this is flagged in the report and in ``marts.scorer_coverage``."""
DIFFERENTIAL_MARGIN = 0.10
"""Default margin of the differential error check: |error(refusal, quote, echo) - error(rest)| above it is flagged."""
SENSITIVE_REGISTERS = ("negated_marker", "quoted_or_echoed", "hedged_refusal", "condemning_by_quoting")
"""The registers aligned agents produce more (refusals, quotes, echoes): a scorer erring more there can fake,
or hide, a backfire."""
STANCE_LABELS = ("pathology", "protective")
_Z95 = 1.959963984540054


@dataclass(frozen=True)
class Scored:
    """One gold sentence and the scorer's stance on it (``None``: abstained)."""

    gold: GoldSentence
    stance: Stance | None


def _ratio(num: float, den: float) -> float | None:
    return num / den if den else None


def _f1(precision: float | None, recall: float | None) -> float | None:
    if precision is None or recall is None:
        return None
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def _one_vs_rest(gold: Sequence[str], predicted: Sequence[str], category: str) -> dict[str, Any]:
    tp = sum(g == category and p == category for g, p in zip(gold, predicted, strict=True))
    fp = sum(g != category and p == category for g, p in zip(gold, predicted, strict=True))
    fn = sum(g == category and p != category for g, p in zip(gold, predicted, strict=True))
    precision, recall = _ratio(tp, tp + fp), _ratio(tp, tp + fn)
    return {"n": sum(g == category for g in gold), "n_correct": tp, "tp": tp, "fp": fp, "fn": fn,
            "precision": precision, "recall": recall, "f1": _f1(precision, recall)}


def _empty_row() -> dict[str, Any]:
    return dict.fromkeys(("n", "n_correct", "tp", "fp", "fn", "precision", "recall", "f1", "accuracy", "kappa"))


def language_rows(items: Sequence[Scored]) -> list[dict[str, Any]]:
    """The rows of one (scorer, language): ``breakdown``, ``category`` and the figures (see module doc)."""
    entered = [i for i in items if i.stance is not None and i.gold.agreed]
    gold = [i.gold.label for i in entered]
    predicted = [i.stance.label for i in entered if i.stance is not None]
    rows: list[dict[str, Any]] = []
    per_label = {label: _one_vs_rest(gold, predicted, label) for label in LABELS}
    for label, figures in per_label.items():
        rows.append({**_empty_row(), "breakdown": "label", "category": label, **figures})
    stance_f1 = [per_label[label]["f1"] for label in STANCE_LABELS]
    correct = sum(g == p for g, p in zip(gold, predicted, strict=True))
    rows.append({**_empty_row(), "breakdown": "overall", "category": "all", "n": len(entered), "n_correct": correct,
                 "accuracy": _ratio(correct, len(entered)),
                 "f1": sum(f or 0.0 for f in stance_f1) / len(stance_f1) if entered else None,
                 "kappa": cohen_kappa(gold, predicted)})
    rows += _subcategory_rows(entered)
    for case in HARD_CASES:
        chosen = [i for i in entered if i.gold.hard_case == case]
        if chosen:
            hits = sum(i.stance is not None and i.stance.label == i.gold.label for i in chosen)
            rows.append({**_empty_row(), "breakdown": "hard_case", "category": case, "n": len(chosen),
                         "n_correct": hits, "accuracy": hits / len(chosen)})
    return rows


def _subcategory_rows(entered: Sequence[Scored]) -> list[dict[str, Any]]:
    """One-vs-rest on ``label.subcategory``, for the labels whose subcategories the scorer predicts at all."""
    told = {i.stance.label for i in entered if i.stance is not None and i.stance.subcategory is not None}
    gold = [f"{i.gold.label}.{i.gold.subcategory}" for i in entered]
    predicted = [f"{i.stance.label}.{i.stance.subcategory}" for i in entered if i.stance is not None]
    rows = [{**_empty_row(), "breakdown": "subcategory", "category": f"{label}.{sub}",
             **_one_vs_rest(gold, predicted, f"{label}.{sub}")}
            for label in STANCE_LABELS if label in told for sub in SUBCATEGORIES[label]]
    return [row for row in rows if row["n"] or row["fp"]]  # a subcategory neither in gold nor predicted says nothing


def wilson_interval(successes: int, n: int, z: float = _Z95) -> tuple[float, float]:
    """Wilson score interval of a proportion."""
    if n == 0:
        return 0.0, 1.0
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def newcombe_difference(x1: int, n1: int, x2: int, n2: int, z: float = _Z95) -> tuple[float, float]:
    """95% CI of p1 - p2 for independent proportions (Newcombe 1998, method 10: hybrid Wilson score)."""
    p1, p2 = x1 / n1, x2 / n2
    l1, u1 = wilson_interval(x1, n1, z)
    l2, u2 = wilson_interval(x2, n2, z)
    d = p1 - p2
    return d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2), d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)


def register_errors(items: Sequence[Scored], margin: float = DIFFERENTIAL_MARGIN) -> dict[str, Any]:
    """Label error rate on refusal/quote/echo registers against the rest, their difference, its CI and the flag.

    ``flagged`` when both groups have sentences and |difference| > ``margin`` (the point estimate: with ~30 test
    sentences a language the CI is wide, so it is reported beside the flag, not required to exclude 0).
    """
    entered = [i for i in items if i.stance is not None and i.gold.agreed]
    sensitive = [i for i in entered if i.gold.hard_case in SENSITIVE_REGISTERS]
    rest = [i for i in entered if i.gold.hard_case not in SENSITIVE_REGISTERS]
    errors_s = sum(i.stance is not None and i.stance.label != i.gold.label for i in sensitive)
    errors_r = sum(i.stance is not None and i.stance.label != i.gold.label for i in rest)
    row: dict[str, Any] = {"n_sensitive": len(sensitive), "errors_sensitive": errors_s, "n_rest": len(rest),
                           "errors_rest": errors_r, "error_rate_sensitive": _ratio(errors_s, len(sensitive)),
                           "error_rate_rest": _ratio(errors_r, len(rest)), "difference": None, "ci_low": None,
                           "ci_high": None, "margin": margin, "flagged": False}
    if sensitive and rest:
        difference = errors_s / len(sensitive) - errors_r / len(rest)
        low, high = newcombe_difference(errors_s, len(sensitive), errors_r, len(rest))
        row.update(difference=difference, ci_low=low, ci_high=high, flagged=abs(difference) > margin)
    return row
