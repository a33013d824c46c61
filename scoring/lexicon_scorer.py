"""The metric-v1 lexicon scorer: marker counts per category plus the units the rates divide by."""

from __future__ import annotations

import functools
import logging

from core.errors import LanguagePackError
from scoring.base import Scorer, Utterance, Values
from scoring.lexicon import CompiledLexicon, lexicon_for
from scoring.text_units import count_characters, count_units, normalize
from simulation.content import PATHOLOGY_KINDS, available_languages, load_language

logger = logging.getLogger(__name__)

LEXICON_DIMENSIONS = (
    "pathology", *(f"pathology.{k}" for k in PATHOLOGY_KINDS),
    "protective", "protective.general", "conformity", "individuation",
    "units", "characters",
)


_COUNTED = LEXICON_DIMENSIONS[:-2]


class LexiconScorer(Scorer):
    """Counts lexicon markers (NFKC + casefold; word-boundary or substring matching by script)."""

    name = "lexicon"
    version = "1"
    dimensions = LEXICON_DIMENSIONS

    def languages(self) -> frozenset[str] | None:
        return frozenset(available_languages())

    @functools.cache  # noqa: B019 - one scorer per process; the cache holds a handful of strings
    def model_id(self, language: str) -> str:
        lexicon = load_language(language).lexicon
        return f"lexicon/{language}@{lexicon.version}"

    def __init__(self) -> None:
        self._by_language: dict[str, tuple[CompiledLexicon, str] | None] = {}

    def _language(self, language: str) -> tuple[CompiledLexicon, str] | None:
        """The compiled lexicon and segmentation of a language, looked up once (this is the hot loop)."""
        if language not in self._by_language:
            try:
                self._by_language[language] = (lexicon_for(language), load_language(language).pack.segmentation)
            except LanguagePackError:
                logger.warning("lexicon abstains on language %s (no pack)", language)
                self._by_language[language] = None
        return self._by_language[language]

    def score(self, utterance: Utterance) -> Values | None:
        found = self._language(utterance.language)
        if found is None:
            return None
        compiled, segmentation = found
        text = normalize(utterance.text)  # once: matching, units and characters all read the normalized text
        counts = compiled.count_normalized(text)
        values: Values = {dim: float(counts.get(dim, 0)) for dim in _COUNTED}
        values["units"] = float(count_units(text, segmentation, normalized=True))
        values["characters"] = float(count_characters(text, normalized=True))
        return values
