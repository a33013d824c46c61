"""The scorer interface: values per dimension per utterance, abstaining (``None``) outside its coverage.

Every scorer declares its provenance (name, version, model id and revision, device) and its coverage (the
languages it knows, the channels it reads). Model scorers fold their model and settings into
``version`` (``1+<fingerprint>``), so two classifiers, or one classifier at two revisions, keep separate
rows in ``raw.scores`` and re-scoring with another model never overwrites anything.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import duckdb


@dataclass(frozen=True)
class Utterance:
    """A stored utterance as scorers see it (they read ``raw.utterances``, never the engine)."""

    utterance_id: str
    language: str
    channel: str
    text: str
    run_id: str = ""
    turn: int = 0
    agent_idx: int = 0


Values = dict[str, float | None]
"""A scorer's values for one utterance; a ``None`` value abstains on that dimension only."""


class Scorer(abc.ABC):
    """A named, versioned measurement over utterances; results go to ``raw.scores`` in long format."""

    name: str
    version: str
    dimensions: tuple[str, ...]
    """The dimensions an abstention writes (a scorer may add detail dimensions, e.g. ``detected.<code>``)."""
    channels: tuple[str, ...] | None = None
    """Channels it reads (``None``: every channel)."""
    device: str = "cpu"
    grouped: bool = False
    """Grouped scorers see whole (run, turn) groups: ``score_groups`` instead of ``score_batch``."""

    @abc.abstractmethod
    def languages(self) -> frozenset[str] | None:
        """Languages covered; ``None`` means every language."""

    @abc.abstractmethod
    def model_id(self, language: str) -> str:
        """What produced the score (a model id and revision, or a lexicon and its version)."""

    def score(self, utterance: Utterance) -> Values | None:
        """Values per dimension, or ``None`` to abstain (an uncovered language, never a guess)."""
        raise NotImplementedError(f"{self.name} scores in batches")

    def score_batch(self, utterances: Sequence[Utterance]) -> list[Values | None]:
        """Batch hook for model scorers; the default scores one by one."""
        return [self.score(u) for u in utterances]

    def score_groups(self, groups: Sequence[Sequence[Utterance]]) -> dict[str, Values | None]:
        """Grouped scorers: each group is every talk and monologue of one (run, turn); values for the
        utterances of the scorer's channels in them, by utterance id."""
        raise NotImplementedError(f"{self.name} is not a grouped scorer")

    def bind(self, con: duckdb.DuckDBPyConnection) -> None:  # noqa: B027 - an optional hook, not an abstract method
        """Called with the warehouse connection before scoring (the judge keeps its response cache there)."""

    def provenance(self) -> dict[str, Any]:
        """What a run's metadata and logs say about the scorer (never a secret)."""
        return {"scorer": self.name, "version": self.version, "device": self.device,
                "channels": list(self.channels) if self.channels else "all",
                "languages": sorted(self.languages() or []) or "all"}
