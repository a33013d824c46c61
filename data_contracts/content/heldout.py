"""Held-out lexicon evaluation: precision and recall on sentences written without sight of the lexicons.

The packs' own ``lexicon_tests.yaml`` were written by the lexicons' authors and score near 1.0 by
construction; ``tests/fixtures/lexicon_heldout/<code>.yaml`` (same format) were written independently, so
their figures are the honest estimate. ``python -m data_contracts.content.heldout [FOLDER] [all|dev|test]
[v1|v1.1]`` prints them (``v1.1``: the metric-v1.1 lexicon, ``scoring/stance_lexicon.py``). Lexicon work may
look at the ``dev`` half of each list; the ``test`` half is never looked at.
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

from data_contracts.content.lexicon_quality import CATEGORIES, CategoryQuality, measure
from simulation.content import load_language

DEFAULT_FOLDER = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "lexicon_heldout"


SPLITS = ("all", "dev", "test")
METRICS = ("v1", "v1.1")


def split_cases(cases: dict[str, dict[str, list[str]]], split: str) -> dict[str, dict[str, list[str]]]:
    """``dev`` is the first half of every list (may guide lexicon work), ``test`` the second half (never)."""
    if split == "all":
        return cases
    out: dict[str, dict[str, list[str]]] = {}
    for category, lists in cases.items():
        out[category] = {}
        for kind, sentences in lists.items():
            middle = len(sentences) // 2
            half = {"dev": slice(0, middle), "test": slice(middle, None)}
            out[category][kind] = sentences[half[split]]
    return out


def evaluate_folder(folder: Path = DEFAULT_FOLDER, split: str = "all",
                    metric: str = "v1") -> dict[str, list[CategoryQuality]]:
    """Per language, the quality of each category on the held-out file of that language."""
    results = {}
    for path in sorted(folder.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        results[data["language"]] = measure(load_language(data["language"]), split_cases(data["cases"], split),
                                            metric)
    return results


def _pooled(results: list[CategoryQuality]) -> tuple[float, float]:
    tp = sum(r.true_positives for r in results)
    fp = sum(r.false_positives for r in results)
    fn = sum(r.false_negatives for r in results)
    return (tp / (tp + fp) if tp + fp else 1.0), (tp / (tp + fn) if tp + fn else 0.0)


def main(folder: Path = DEFAULT_FOLDER, split: str = "all", metric: str = "v1") -> None:
    results = evaluate_folder(folder, split, metric)
    header = ["lang", "precision", "recall", *(f"R:{c[:6]}" for c in CATEGORIES)]
    print("  ".join(f"{h:>9}" for h in header))
    for language, per_category in results.items():
        precision, recall = _pooled(per_category)
        cells = [language, f"{precision:.2f}", f"{recall:.2f}", *(f"{r.recall:.2f}" for r in per_category)]
        print("  ".join(f"{c:>9}" for c in cells))
    precision, recall = _pooled([r for rs in results.values() for r in rs])
    print(f"\nall {len(results)} languages ({split}, {metric}): precision {precision:.2f}, recall {recall:.2f}")


if __name__ == "__main__":
    arguments = sys.argv[1:]
    chosen = next((a for a in arguments if a in SPLITS), "all")
    metric = next((a for a in arguments if a in METRICS), "v1")
    folders = [Path(a) for a in arguments if a not in SPLITS and a not in METRICS]
    main(folders[0] if folders else DEFAULT_FOLDER, chosen, metric)
