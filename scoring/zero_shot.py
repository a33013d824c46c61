"""The ``zero-shot`` scorer: a multilingual NLI model asked, in the utterance's own language, whether the
utterance entails each category's hypothesis (scoring/hypotheses.yaml).

Per category: ``category.<name>`` = P(entailment) from the softmax over entailment and contradiction
(the usual zero-shot rule); ``pathology`` / ``protective`` = the largest of their group's categories. It
covers the languages the model declares that also have hypotheses; others abstain.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from core.errors import BackfireError
from scoring.base import Utterance, Values
from scoring.hf_models import (
    DEFAULT_MAX_LENGTH,
    SequenceClassifierScorer,
    declared_languages,
    fingerprint,
    load_sequence_classifier,
)

VERSION = "1"
HYPOTHESES_FILE = Path(__file__).with_name("hypotheses.yaml")


@functools.cache
def hypotheses() -> dict[str, Any]:
    return yaml.safe_load(HYPOTHESES_FILE.read_text(encoding="utf-8"))


def _label_index(labels: Sequence[str], word: str) -> int:
    for i, label in enumerate(labels):
        if label.lower().startswith(word):
            return i
    raise BackfireError(f"the NLI model's labels {list(labels)} have no '{word}' label", field="--scorer",
                        fix="use an NLI model (labels entailment / neutral / contradiction)")


class ZeroShotScorer(SequenceClassifierScorer):
    name = "zero-shot"

    def __init__(self, model: str, *, languages: Sequence[str] | None = None, batch_size: int = 64,
                 device: str = "auto", precision: str = "auto", revision: str | None = None,
                 max_length: int = DEFAULT_MAX_LENGTH) -> None:
        self.classifier = load_sequence_classifier(model, scorer=self.name, device=device, precision=precision,
                                                   revision=revision, max_length=max_length)
        self.device, self.batch_size = self.classifier.device, int(batch_size)
        spec = hypotheses()
        declared = declared_languages(languages, self.classifier.model.config, self.name, model)
        self.covered = frozenset(declared & set(spec["hypotheses"]))
        self.groups: dict[str, list[str]] = spec["groups"]
        self.categories = [c for group in self.groups.values() for c in group]
        self.entailment = _label_index(self.classifier.labels, "entail")
        self.contradiction = _label_index(self.classifier.labels, "contra")
        self.dimensions = (*self.groups, *(f"category.{c}" for c in self.categories))
        key = fingerprint(model, self.classifier.revision, spec['version'], *self.classifier.version_settings())
        self.version = f"{VERSION}+{key}"

    def score_batch(self, utterances: Sequence[Utterance]) -> list[Values | None]:
        import numpy as np

        covered, results = self.split_covered(utterances)
        if not covered:
            return results
        table = hypotheses()["hypotheses"]
        premises = [utterances[i].text for i in covered for _ in self.categories]
        claims = [table[utterances[i].language][c] for i in covered for c in self.categories]
        logits = self.classifier.logits(premises, claims, batch_size=self.batch_size)
        pair = logits[:, [self.entailment, self.contradiction]]
        pair = np.exp(pair - pair.max(axis=1, keepdims=True))
        entailed = (pair[:, 0] / pair.sum(axis=1)).reshape(len(covered), len(self.categories))
        for row, index in zip(entailed, covered, strict=True):
            values: Values = {f"category.{c}": float(p) for c, p in zip(self.categories, row, strict=True)}
            for group, members in self.groups.items():
                values[group] = max(values[f"category.{c}"] or 0.0 for c in members)
            results[index] = values
        return results

    def provenance(self) -> dict[str, Any]:
        return {**super().provenance(), "hypotheses": hypotheses()["version"]}
