"""Lexicon quality: precision and recall of each category on the pack's hand-written test sentences.

``lexicon_tests.yaml`` holds, per category, sentences that must hit it (positive) and sentences that must not
(negative: near misses, negations, other categories). A category "hits" a sentence when the lexicon scorer
counts at least one marker of it. The floors hold for metric v1 and, where the pack has v1.1 entries
(``lexicon_lemmas.yaml``) and the ``lexicon`` extra is installed, for metric v1.1's stance counts too: a
v1.1 entry with an innocent everyday sense breaks the contract like a v1 entry would.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

import yaml

from simulation.content import PATHOLOGY_KINDS, LanguageContent

CATEGORIES = {**{kind: f"pathology.{kind}" for kind in PATHOLOGY_KINDS},
              "conformity": "conformity", "individuation": "individuation", "protective": "protective"}
MIN_CASES = 5
PRECISION_FLOOR = 0.8
RECALL_FLOOR = 0.8


@dataclass(frozen=True)
class CategoryQuality:
    category: str
    true_positives: int
    false_negatives: int
    false_positives: int
    misses: tuple[str, ...]
    false_alarms: tuple[str, ...]

    @property
    def precision(self) -> float:
        hits = self.true_positives + self.false_positives
        return self.true_positives / hits if hits else 1.0

    @property
    def recall(self) -> float:
        wanted = self.true_positives + self.false_negatives
        return self.true_positives / wanted if wanted else 0.0


def load_lexicon_tests(content: LanguageContent) -> dict[str, dict[str, list[str]]] | None:
    path = Path(content.path) / "lexicon_tests.yaml"
    if not path.is_file():
        return None
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    cases = data.get("cases")
    return cases if isinstance(cases, dict) else {}


def measure(content: LanguageContent, cases: dict[str, dict[str, list[str]]],
            metric: str = "v1") -> list[CategoryQuality]:
    """Per category, which positives the lexicon misses and which negatives it hits.

    Args:
        metric: ``v1`` (surface matching) or ``v1.1`` (lemmas, negation and quotation: ``scoring.stance_lexicon``,
            which reads the pack by its language code).
    """
    if metric == "v1.1":
        from scoring.stance_lexicon import stance_lexicon_for
        from scoring.text_units import normalize

        stance = stance_lexicon_for(content.pack.language)

        def count(text: str) -> dict[str, int]:
            return stance.classify(normalize(text))
    else:
        from scoring.lexicon import compile_lexicon

        count = compile_lexicon(content.lexicon, content.pack.segmentation).count
    results = []
    for category, dimension in CATEGORIES.items():
        case = cases.get(category) or {}
        positives, negatives = case.get("positive") or [], case.get("negative") or []
        misses = tuple(s for s in positives if not count(s).get(dimension))
        alarms = tuple(s for s in negatives if count(s).get(dimension))
        results.append(CategoryQuality(category, len(positives) - len(misses), len(misses), len(alarms), misses,
                                       alarms))
    return results


def summary_line(language: str, results: list[CategoryQuality]) -> str:
    tp = sum(r.true_positives for r in results)
    fp = sum(r.false_positives for r in results)
    fn = sum(r.false_negatives for r in results)
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    return (f"{language}: lexicon precision {precision:.2f}, recall {recall:.2f} "
            f"({tp} of {tp + fn} positives found, {fp} false alarms)")


def check_lexicon_quality(content: LanguageContent) -> list[str]:
    """Problems: missing or too few test sentences, or a category under the precision/recall floors."""
    lang = content.pack.language
    cases = load_lexicon_tests(content)
    if cases is None:
        return [f"{lang}: lexicon_tests.yaml: missing (docs/language-packs.md)"]
    problems = []
    for category in CATEGORIES:
        case = cases.get(category) or {}
        for kind in ("positive", "negative"):
            if len(case.get(kind) or []) < MIN_CASES:
                problems.append(f"{lang}: lexicon_tests.{category}.{kind}: needs at least {MIN_CASES} sentences")
    for metric in metrics_to_check(content):
        where = "lexicon" if metric == "v1" else f"lexicon {metric}"
        for result in measure(content, cases, metric):
            if result.recall < RECALL_FLOOR:
                problems.append(f"{lang}: {where}.{result.category}: recall {result.recall:.2f} < {RECALL_FLOOR}; "
                                f"missed {list(result.misses)[:3]}")
            if result.precision < PRECISION_FLOOR:
                problems.append(f"{lang}: {where}.{result.category}: precision {result.precision:.2f} < "
                                f"{PRECISION_FLOOR}; false alarms {list(result.false_alarms)[:3]}")
    return problems


def metrics_to_check(content: LanguageContent) -> list[str]:
    """v1 always; v1.1 where the pack has v1.1 entries, the ``lexicon`` extra is installed, and the pack is the
    one its language code loads (v1.1 reads the pack by code)."""
    from simulation.content import load_language

    if not (Path(content.path) / "lexicon_lemmas.yaml").is_file() or importlib.util.find_spec("simplemma") is None:
        return ["v1"]
    same = Path(load_language(content.pack.language).path).resolve() == Path(content.path).resolve()
    return ["v1", "v1.1"] if same else ["v1"]
