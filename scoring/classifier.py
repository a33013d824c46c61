"""The ``classifier`` scorer: a ``transformers`` text-classification model (e.g. a multilingual XLM-R
toxicity model) whose label probabilities map to our dimensions.

``pathology`` and ``protective`` are the summed probabilities of the labels mapped to them (softmax over
labels, or each label's sigmoid for multi-label models, capped at 1); every label also gets its own
``label.<name>`` row. Outside its declared languages it abstains.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

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
TARGETS = ("pathology", "protective", "none")
_PATHOLOGY_LABEL = re.compile(r"toxic|hate|insult|threat|obscen|offens|harm|abus|identity.?attack|violen",
                              re.IGNORECASE)
_NEGATED_LABEL = re.compile(r"^(non|not|no)[-_ ]?|neutral|safe|benign|clean", re.IGNORECASE)


def default_label_map(labels: Sequence[str]) -> dict[str, str]:
    """Toxicity-style labels count as pathology (``non-toxic``, ``neutral``, ``safe`` do not); a model
    whose labels say nothing needs an explicit ``labels`` mapping."""
    mapping = {label: "pathology" if _PATHOLOGY_LABEL.search(label) and not _NEGATED_LABEL.search(label)
               else "none" for label in labels}
    if "pathology" not in mapping.values():
        raise BackfireError(f"cannot tell which of the labels {list(labels)} mean pathology", field="labels",
                            fix="map them: ?labels=LABEL:pathology,OTHER:protective (or `labels:` in the study)")
    return mapping


class ClassifierScorer(SequenceClassifierScorer):
    name = "classifier"

    def __init__(self, model: str, *, languages: Sequence[str] | None = None,
                 labels: Mapping[str, str] | None = None, batch_size: int = 64, device: str = "auto",
                 precision: str = "auto", revision: str | None = None,
                 max_length: int = DEFAULT_MAX_LENGTH) -> None:
        self.classifier = load_sequence_classifier(model, scorer=self.name, device=device, precision=precision,
                                                   revision=revision, max_length=max_length)
        self.device = self.classifier.device
        self.batch_size = int(batch_size)
        self.covered = declared_languages(languages, self.classifier.model.config, self.name, model)
        model_labels = self.classifier.labels
        self.label_map = dict(labels) if labels else default_label_map(model_labels)
        unknown = sorted(set(self.label_map) - set(model_labels))
        bad = sorted({t for t in self.label_map.values() if t not in TARGETS})
        if unknown or bad:
            raise BackfireError(f"labels mapping: {'unknown labels ' + str(unknown) if unknown else ''}"
                                f"{' targets ' + str(bad) if bad else ''}", field="labels",
                                fix=f"the model's labels are {model_labels}; targets are {', '.join(TARGETS)}")
        targets = [t for t in ("pathology", "protective") if t in self.label_map.values()]
        self.dimensions = (*targets, *(f"label.{label}" for label in model_labels))
        key = fingerprint(model, self.classifier.revision, sorted(self.label_map.items()),
                          *self.classifier.version_settings())
        self.version = f"{VERSION}+{key}"

    def score_batch(self, utterances: Sequence[Utterance]) -> list[Values | None]:
        import numpy as np

        covered, results = self.split_covered(utterances)
        if not covered:
            return results
        logits = self.classifier.logits([utterances[i].text for i in covered], batch_size=self.batch_size)
        if self.classifier.multi_label:
            probs = 1 / (1 + np.exp(-logits))
        else:
            shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
            probs = shifted / shifted.sum(axis=1, keepdims=True)
        labels = self.classifier.labels
        columns = {t: [j for j, label in enumerate(labels) if self.label_map.get(label) == t]
                   for t in ("pathology", "protective")}
        for row, index in zip(probs, covered, strict=True):
            values: Values = {f"label.{label}": float(row[j]) for j, label in enumerate(labels)}
            for target, js in columns.items():
                if js:
                    values[target] = min(1.0, float(row[js].sum()))
            results[index] = values
        return results

    def provenance(self) -> dict[str, Any]:
        return {**super().provenance(), "labels": self.label_map}
