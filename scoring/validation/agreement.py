"""Agreement between two labelings of the same items: Cohen's kappa (nominal categories, unweighted).

kappa = (p_o - p_e) / (1 - p_e), with p_o the observed agreement and p_e the agreement expected from each
rater's marginal shares. Where p_e = 1 (both raters used one and the same category throughout) kappa is
undefined and we return ``None`` (scikit-learn returns NaN there): a report shows "-", never a made-up 1.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Sequence
from dataclasses import dataclass

from scoring.validation.gold import GoldSentence


def cohen_kappa(a: Sequence[Hashable], b: Sequence[Hashable]) -> float | None:
    """Cohen's kappa of two equally long labelings; ``None`` when undefined (no items, or p_e = 1)."""
    if len(a) != len(b):
        raise ValueError(f"cohen_kappa needs labelings of one length, got {len(a)} and {len(b)}")
    n = len(a)
    if n == 0:
        return None
    observed = sum(x == y for x, y in zip(a, b, strict=True)) / n
    count_a, count_b = Counter(a), Counter(b)
    expected = sum(count_a[c] * count_b[c] for c in count_a.keys() | count_b.keys()) / (n * n)
    if expected >= 1.0:
        return None
    return (observed - expected) / (1.0 - expected)


@dataclass(frozen=True)
class Agreement:
    """A and B on one language: items labelled by both, agreements, kappa on label and on subcategory."""

    language: str
    n_labelled_twice: int
    n_agreed: int
    n_disagreed: int
    n_missing_b: int
    kappa_label: float | None
    kappa_subcategory: float | None
    """Over all items labelled twice, the category being ``label.subcategory`` (so a label disagreement also
    counts as a subcategory disagreement)."""


def label_agreement(sentences: Sequence[GoldSentence], language: str) -> Agreement:
    """Inter-annotator agreement of one language's gold sentences."""
    mine = [s for s in sentences if s.language == language]
    twice = [s for s in mine if s.label_b is not None]
    agreed = sum(s.agreed for s in twice)
    return Agreement(
        language=language, n_labelled_twice=len(twice), n_agreed=agreed, n_disagreed=len(twice) - agreed,
        n_missing_b=len(mine) - len(twice),
        kappa_label=cohen_kappa([s.label for s in twice], [s.label_b for s in twice]),
        kappa_subcategory=cohen_kappa([f"{s.label}.{s.subcategory}" for s in twice],
                                      [f"{s.label_b}.{s.subcategory_b}" for s in twice]))
