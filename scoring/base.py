"""The scorer interface: one ``score`` call per utterance, abstaining (``None``) outside its coverage."""

from __future__ import annotations

import abc
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Utterance:
    """A stored utterance as scorers see it (they read ``raw.utterances``, never the engine)."""

    utterance_id: str
    language: str
    channel: str
    text: str


class Scorer(abc.ABC):
    """A named, versioned measurement over utterances; results go to ``raw.scores`` in long format."""

    name: str
    version: str
    dimensions: tuple[str, ...]

    @abc.abstractmethod
    def languages(self) -> frozenset[str] | None:
        """Languages covered; ``None`` means every language."""

    @abc.abstractmethod
    def model_id(self, language: str) -> str:
        """What produced the score (a model id and revision, or a lexicon and its version)."""

    @abc.abstractmethod
    def score(self, utterance: Utterance) -> dict[str, float] | None:
        """Values per dimension, or ``None`` to abstain (an uncovered language, never a guess)."""

    def score_batch(self, utterances: Sequence[Utterance]) -> list[dict[str, float] | None]:
        """Batch hook for model scorers; the default scores one by one."""
        return [self.score(u) for u in utterances]
