"""The ``embedding`` scorer: a ``sentence-transformers`` model over each (run, turn) of talk.

On every talk reply: ``semantic_conformity`` = mean cosine between this agent's talk and the other agents'
talk of the same turn (abstains when the agent spoke alone), ``semantic_dissociation`` = 1 - cosine between
the agent's talk and its own monologue of the turn (abstains without a monologue). A run's semantic
conformity is the mean over its talk, i.e. the mean pairwise cosine of the group's talk per turn.

Texts are truncated at the model's own ``max_seq_length``, capped at what its position embeddings take
(sentence-transformers caps only at ``max_position_embeddings``, which overruns RoBERTa-style models) and at
``max_length`` when one is given.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from core.errors import BackfireError
from core.extras import require
from scoring.base import Scorer, Utterance, Values
from scoring.devices import pick_device
from scoring.hf_models import (
    declared_languages,
    effective_max_length,
    fingerprint,
    max_length_setting,
    model_revision,
    quiet_transformers,
)

logger = logging.getLogger(__name__)
VERSION = "1"


def _encoder(model: Any) -> Any:
    """The transformers model inside the first module (None for other module types)."""
    return getattr(model[0] if len(model) else None, "auto_model", None)


def _transformer_config(model: Any) -> Any:
    return getattr(_encoder(model), "config", None)


class EmbeddingScorer(Scorer):
    name = "embedding"
    dimensions = ("semantic_conformity", "semantic_dissociation")
    channels = ("talk",)
    grouped = True

    def __init__(self, model: str, *, languages: Sequence[str] | None = None, batch_size: int = 64,
                 device: str = "auto", precision: str = "auto", revision: str | None = None,
                 max_length: int | None = None) -> None:
        sentence_transformers = require("sentence_transformers", extra="hf", feature="the embedding scorer")
        quiet_transformers()
        self.device, dtype = pick_device(device, precision)
        try:
            self.model = sentence_transformers.SentenceTransformer(model, device=self.device, revision=revision)
        except (OSError, ValueError) as exc:
            raise BackfireError(f"cannot load embedding model '{model}': {exc}", field="--scorer",
                                fix="pass a local sentence-transformers folder or a model id in your Hugging "
                                    "Face cache") from exc
        if self.device.startswith("cuda"):
            self.model.to(dtype)
        config = _transformer_config(self.model)
        declared = self.model.max_seq_length
        self.max_length = effective_max_length(max_length, declared, _encoder(self.model))
        if self.max_length is not None and self.max_length != declared:
            self.model.max_seq_length = self.max_length
        card = getattr(getattr(self.model, "model_card_data", None), "language", None)
        self.covered = declared_languages(languages or (card if isinstance(card, list) and card else None),
                                          config, self.name, model)
        self.model_name, self.batch_size = model, int(batch_size)
        self.revision = model_revision(model, config, revision)
        self.version = f"{VERSION}+{fingerprint(model, self.revision, *max_length_setting(self.max_length, declared))}"
        logger.info("embedding: %s on %s (%s), inputs truncated at %s tokens", model, self.device, dtype,
                    self.max_length)

    def languages(self) -> frozenset[str]:
        return self.covered

    def model_id(self, language: str) -> str:
        return f"{self.model_name}@{self.revision}"

    def score_groups(self, groups: Sequence[Sequence[Utterance]]) -> dict[str, Values | None]:
        import numpy as np

        results: dict[str, Values | None] = {}
        texts: list[str] = []
        for group in groups:
            if group and group[0].language in self.covered:
                texts += [u.text for u in group]
        vectors = self.model.encode(texts, batch_size=self.batch_size, convert_to_numpy=True,
                                    normalize_embeddings=True, show_progress_bar=False) if texts else np.empty((0, 0))
        offset = 0
        for group in groups:
            talk = [i for i, u in enumerate(group) if u.channel == "talk"]
            if not group or group[0].language not in self.covered:
                results.update({group[i].utterance_id: None for i in talk})
                continue
            block = np.asarray(vectors[offset:offset + len(group)], dtype=np.float64)
            offset += len(group)
            monologue = {u.agent_idx: i for i, u in enumerate(group) if u.channel == "monologue"}
            talk_vectors = block[talk]
            similarity = talk_vectors @ talk_vectors.T
            for row, i in enumerate(talk):
                others = len(talk) - 1
                conformity = float((similarity[row].sum() - similarity[row, row]) / others) if others else None
                own = monologue.get(group[i].agent_idx)
                dissociation = float(1.0 - block[i] @ block[own]) if own is not None else None
                results[group[i].utterance_id] = {"semantic_conformity": conformity,
                                                  "semantic_dissociation": dissociation}
        return results

    def provenance(self) -> dict[str, Any]:
        return {**super().provenance(), "model_id": self.model_name, "revision": self.revision,
                "batch_size": self.batch_size, "max_length": self.max_length}
