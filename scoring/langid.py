"""The ``langid`` scorer: the detected language of every reply and whether it is the run's language.

Dimensions: ``in_language`` (1 or 0), ``confidence`` (the normalized probability of the detected
language) and ``detected.<code>`` (one row, the same confidence). Language fidelity, the share of a run's
replies in its language, is the mean of ``in_language`` (``marts.run_metrics.language_fidelity``). Model:
py3langid's bundled naive-Bayes model (97 languages: all 16 defaults); others abstain.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from scoring.base import Scorer, Utterance, Values

VERSION = "1"
ALIASES = {"zh-cn": "zh", "zh-tw": "zh"}


@functools.cache
def _identifier() -> Any:
    import py3langid.langid as langid

    return langid.LanguageIdentifier.from_modelpath(langid.MODEL_DIR / langid.MODEL_FILE, norm_probs=True)


@functools.cache
def _package_version() -> str:
    from importlib.metadata import version

    return version("py3langid")


class LangIdScorer(Scorer):
    name = "langid"
    dimensions = ("in_language", "confidence")

    def __init__(self, *, min_chars: int = 1) -> None:
        self.min_chars = int(min_chars)
        self.version = f"{VERSION}+py3langid-{_package_version()}"

    def languages(self) -> frozenset[str]:
        return frozenset(_identifier().nb_classes)

    def model_id(self, language: str) -> str:
        return f"py3langid@{_package_version()}"

    def score_batch(self, utterances: Sequence[Utterance]) -> list[Values | None]:
        identifier, covered = _identifier(), self.languages()
        results: list[Values | None] = []
        for utterance in utterances:
            text = utterance.text.strip()
            if utterance.language not in covered or len(text) < self.min_chars:
                results.append(None)
                continue
            detected, confidence = identifier.classify(text)
            detected = ALIASES.get(detected, detected)
            results.append({"in_language": float(detected == utterance.language), "confidence": float(confidence),
                            f"detected.{detected}": float(confidence)})
        return results
