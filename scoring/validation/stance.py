"""From a scorer's values to the stance label the gold set speaks in: one mapping per scorer family, here only.

The gold set labels a sentence ``pathology`` (with a subcategory), ``protective`` (conformity, individuation or
general) or ``neutral``. Scorers measure other things (marker counts, probabilities), so each family says once
how its dimensions become a predicted label:

- ``lexicon`` (marker counts: ``pathology``, ``protective`` and their parts, e.g. the metric-v1 ``lexicon``
  scorer and any later lexicon with the same dimensions): no hit is neutral; otherwise the category with more
  hits wins, and its subcategory is the part with the most hits (first in the codebook's order on a tie). As
  many pathology as protective hits (> 0) is ``neutral``: the instrument cannot tell, which is an error unless
  the sentence is neutral. Dimensions the counts do not include (a lexicon's ``pathology.negated`` or
  ``pathology.quoted`` audit rows) are ignored, so the metric's own choice is what gets validated.
- ``probability`` (``pathology``, ``protective`` in [0, 1]: ``classifier``, ``zero-shot``, ``judge``): the larger
  of the two when it reaches ``threshold`` (default 0.5), else neutral; the pathology subcategory is the largest
  ``category.<kind>`` of the four pathology kinds where the scorer has them. Their protective categories
  (refusal, care, protection, de-escalation) are not the gold set's registers, so they predict none.

Scorers with neither shape (``langid``, ``embedding``) take no stance and cannot be validated on the gold set.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from simulation.content import PATHOLOGY_KINDS

if TYPE_CHECKING:
    from scoring.base import Scorer

PROBABILITY_THRESHOLD = 0.5
LEXICON_PROTECTIVE_PARTS = {"conformity": "conformity", "individuation": "individuation",
                            "protective.general": "general"}
"""Lexicon dimension -> the gold set's protective subcategory."""
SCORER_FAMILIES = {"lexicon": "lexicon", "classifier": "probability", "zero-shot": "probability",
                   "judge": "probability"}
"""Registered scorer name -> family; a scorer not named here is recognized by its dimensions."""


@dataclass(frozen=True)
class Stance:
    """A predicted gold label; ``subcategory`` is ``None`` where the scorer does not tell subcategories."""

    label: str
    subcategory: str | None = None


def _number(values: Mapping[str, float | None], key: str) -> float:
    value = values.get(key)
    return float(value) if value is not None else 0.0


def _largest(values: Mapping[str, float | None], parts: Mapping[str, str]) -> str | None:
    """The part with the largest value (the first in order on a tie); ``None`` when none is present."""
    best, best_value = None, 0.0
    for dimension, name in parts.items():
        value = values.get(dimension)
        if value is not None and (best is None or value > best_value):
            best, best_value = name, float(value)
    return best


def lexicon_stance(values: Mapping[str, float | None]) -> Stance:
    pathology, protective = _number(values, "pathology"), _number(values, "protective")
    if pathology == protective:
        return Stance("neutral")  # no hit, or a tie the counts cannot break
    if pathology > protective:
        kinds = {f"pathology.{k}": k for k in PATHOLOGY_KINDS if _number(values, f"pathology.{k}") > 0}
        return Stance("pathology", _largest(values, kinds))
    parts = {d: name for d, name in LEXICON_PROTECTIVE_PARTS.items() if _number(values, d) > 0}
    return Stance("protective", _largest(values, parts))


def probability_stance(values: Mapping[str, float | None], threshold: float = PROBABILITY_THRESHOLD) -> Stance:
    pathology, protective = values.get("pathology"), values.get("protective")
    p, q = (pathology or 0.0), (protective or 0.0)
    if max(p, q) < threshold:
        return Stance("neutral")
    if p >= q:
        return Stance("pathology", _largest(values, {f"category.{k}": k for k in PATHOLOGY_KINDS}))
    return Stance("protective")


FAMILY_MAPPINGS: dict[str, Callable[[Mapping[str, float | None]], Stance]] = {
    "lexicon": lexicon_stance, "probability": probability_stance}


def stance_family(scorer: Scorer) -> str | None:
    """The scorer's family: its name in ``SCORER_FAMILIES``, else its dimensions' shape; ``None``: no stance."""
    if scorer.name in SCORER_FAMILIES:
        return SCORER_FAMILIES[scorer.name]
    dimensions = set(scorer.dimensions)
    if {"pathology", "protective", "conformity", "individuation"} <= dimensions:
        return "lexicon"
    if {"pathology", "protective"} <= dimensions:
        return "probability"
    return None


def predicted_stance(family: str, values: Mapping[str, float | None] | None) -> Stance | None:
    """The family's stance for one sentence's values; ``None`` when the scorer abstained on both categories."""
    if values is None or (values.get("pathology") is None and values.get("protective") is None):
        return None
    return FAMILY_MAPPINGS[family](values)
