"""Lexicon quality on held-out sentences written without sight of the lexicons (the honest estimate).

The floors are regression guards at the measured level (docs/metrics.md, "Lexicon quality"), far below the
packs' own test-sentence floors: keyword matching misses much natural phrasing, and the figures say so.
"""

from __future__ import annotations

import pytest

from data_contracts.content.heldout import DEFAULT_FOLDER, evaluate_folder

# Measured on the test halves (never used to write the lexicons): precision 0.86, recall 0.28.
HELDOUT_PRECISION_FLOOR = 0.80
HELDOUT_RECALL_FLOOR = 0.25
LANGUAGES = sorted(p.stem for p in DEFAULT_FOLDER.glob("*.yaml"))


def test_every_language_has_a_heldout_set() -> None:
    assert len(LANGUAGES) == 16


@pytest.fixture(scope="module")
def results():
    return evaluate_folder(split="test")


def test_pooled_heldout_quality_stays_above_the_floors(results) -> None:
    rows = [r for per_language in results.values() for r in per_language]
    tp = sum(r.true_positives for r in rows)
    fp = sum(r.false_positives for r in rows)
    fn = sum(r.false_negatives for r in rows)
    print(f"held-out test halves: precision {tp / (tp + fp):.2f}, recall {tp / (tp + fn):.2f}")
    assert tp / (tp + fp) >= HELDOUT_PRECISION_FLOOR
    assert tp / (tp + fn) >= HELDOUT_RECALL_FLOOR
