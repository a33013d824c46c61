"""Loading and running ``transformers`` sequence-classification models (the classifier and zero-shot
scorers): by hub id or local path, on the picked device and dtype, in length-sorted batches, truncated at the
longest input the model takes (``effective_max_length``)."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.errors import BackfireError
from core.extras import require
from scoring.base import Scorer, Utterance, Values
from scoring.devices import length_sorted_batches, pick_device

logger = logging.getLogger(__name__)

DEFAULT_MAX_LENGTH = 256
"""Tokens the classifier and zero-shot scorers truncate at unless the model takes fewer (or one is given)."""
UNKNOWN_LENGTH = 1_000_000
"""A tokenizer that does not know its limit reports a huge sentinel (``int(1e30)``); at or above this, unknown."""


def fingerprint(*parts: Any) -> str:
    return hashlib.sha256("\x1f".join(map(str, parts)).encode()).hexdigest()[:10]


def _local_revision(folder: Path) -> str:
    """A local model's revision: a hash of its config and the sizes of its weight files."""
    parts = [(folder / "config.json").read_text(encoding="utf-8") if (folder / "config.json").is_file() else ""]
    parts += [f"{p.name}:{p.stat().st_size}" for p in sorted(folder.iterdir()) if p.suffix in (".safetensors", ".bin")]
    return "local-" + fingerprint(*parts)


def model_revision(model: str, config: Any, revision: str | None) -> str:
    if revision:
        return revision
    if Path(model).is_dir():
        return _local_revision(Path(model))
    return getattr(config, "_commit_hash", None) or "unknown"


def declared_languages(languages: Sequence[str] | None, config: Any, scorer: str, model: str) -> frozenset[str]:
    """The languages a model covers: the scorer's ``languages`` option, else a ``languages`` list in the
    model's config.json. Never assumed: a model that says nothing must be told."""
    found = languages or getattr(config, "languages", None) or getattr(config, "backfire_languages", None)
    if not found:
        raise BackfireError(f"{scorer} model '{model}' does not say which languages it covers", field="languages",
                            fix=f"declare them: --scorer '{scorer}:{model}?languages=en,de,ja' (or `languages:` "
                                "in the study's scoring entry, or a `languages` list in the model's config.json); "
                                "utterances in other languages are abstained on")
    return frozenset(str(code) for code in found)


def stated_limit(value: Any) -> int | None:
    """A limit a tokenizer (``model_max_length``) or a sentence-transformers model (``max_seq_length``)
    states, when it is a real value and not the "unknown" sentinel."""
    return int(value) if isinstance(value, int) and 0 < value < UNKNOWN_LENGTH else None


def position_limit(model: Any) -> int | None:
    """The most tokens (special tokens included) the model's position embeddings can number, or None when
    its config states no limit.

    RoBERTa-style embeddings (XLM-R, CamemBERT, MPNet: a learned ``position_embeddings`` table beside an int
    ``padding_idx``) number positions from ``padding_idx + 1``, so they take ``max_position_embeddings -
    (pad_token_id + 1)`` tokens (130 positions: 128 tokens); others (BERT, DistilBERT, ELECTRA...) take
    ``max_position_embeddings`` (``n_positions`` in GPT-2-style configs).
    """
    if model is None:
        return None
    nn = require("torch.nn", extra="hf", feature="model scorers")
    for module in model.modules():
        padding, table = getattr(module, "padding_idx", None), getattr(module, "position_embeddings", None)
        if isinstance(padding, int) and isinstance(table, nn.Embedding):
            return int(table.num_embeddings) - (padding + 1)
    config = getattr(model, "config", None)
    for attribute in ("max_position_embeddings", "n_positions"):
        value = getattr(config, attribute, None)
        if isinstance(value, int) and value > 0:  # XLNet says -1: no limit
            return value
    return None


def effective_max_length(configured: int | None, stated: Any, model: Any) -> int | None:
    """Where inputs are truncated: the smallest of the configured length, the limit the tokenizer states
    (``stated_limit``) and the model's position limit (None when none of them is known)."""
    if configured is not None and configured <= 0:
        raise BackfireError(f"max_length must be positive, not {configured}", field="max_length",
                            fix="give a number of tokens, or leave it out to use the model's limit")
    known = [value for value in (configured, stated_limit(stated), position_limit(model)) if value]
    return min(known) if known else None


def max_length_setting(effective: int | None, default: int | None) -> tuple[str, ...]:
    """The truncation length as part of a scorer's version fingerprint.

    It changes the values of longer texts, so two lengths must be two versions (else incremental scoring
    would mix them under one version). At ``default``, the length every earlier version of the scorer
    truncated at, it adds nothing, so the versions (and rows) of models that already worked stay the same.
    """
    return () if effective == default else (f"max_length={effective}",)


@dataclass
class SequenceClassifier:
    """A loaded model with its tokenizer, device and provenance."""

    name: str
    revision: str
    tokenizer: Any
    model: Any
    device: str
    max_length: int
    """The effective truncation length (``effective_max_length``), in tokens, special tokens included."""

    @property
    def labels(self) -> list[str]:
        return [self.model.config.id2label[i] for i in range(self.model.config.num_labels)]

    @property
    def multi_label(self) -> bool:
        return getattr(self.model.config, "problem_type", None) == "multi_label_classification"

    def version_settings(self) -> tuple[str, ...]:
        """What of the loading enters the scorer's version besides the model and revision."""
        return max_length_setting(self.max_length, DEFAULT_MAX_LENGTH)

    def logits(self, texts: Sequence[str], pairs: Sequence[str] | None = None, batch_size: int = 64) -> Any:
        """Logits (float32 numpy, input order) for texts, or for (text, pair) NLI inputs, each input truncated
        to ``max_length`` tokens (a pair: the longer of the two first)."""
        import numpy as np

        torch = require("torch", extra="hf", feature="model scorers")
        out = np.zeros((len(texts), self.model.config.num_labels), dtype=np.float32)
        with torch.inference_mode():
            for batch in length_sorted_batches(texts, batch_size):
                first = [texts[i] for i in batch]
                second = [pairs[i] for i in batch] if pairs is not None else None
                encoded = self.tokenizer(first, second, padding=True, truncation=True, max_length=self.max_length,
                                         return_tensors="pt").to(self.device)
                out[batch] = self.model(**encoded).logits.float().cpu().numpy()
        return out


def quiet_transformers() -> None:
    """No per-load progress bars on the CLI's stderr (the scorers log what they load)."""
    hf_logging = require("transformers.utils.logging", extra="hf", feature="model scorers")
    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()


def load_sequence_classifier(model: str, *, scorer: str, device: str = "auto", precision: str = "auto",
                             revision: str | None = None,
                             max_length: int = DEFAULT_MAX_LENGTH) -> SequenceClassifier:
    """Load once, before anything is scored: a wrong id or path fails here with the scorer named."""
    feature = f"the {scorer} scorer"
    require("torch", extra="hf", feature=feature)
    transformers = require("transformers", extra="hf", feature=feature)
    quiet_transformers()
    chosen, dtype = pick_device(device, precision)
    try:
        tokenizer = transformers.AutoTokenizer.from_pretrained(model, revision=revision)
        loaded = transformers.AutoModelForSequenceClassification.from_pretrained(model, revision=revision,
                                                                                 dtype=dtype)
    except (OSError, ValueError) as exc:
        raise BackfireError(f"cannot load {scorer} model '{model}': {exc}", field="--scorer",
                            fix="pass a local folder with config.json, tokenizer and weights, or a model id in "
                                "your Hugging Face cache") from exc
    loaded.to(chosen).eval()
    effective = effective_max_length(max_length, getattr(tokenizer, "model_max_length", None), loaded) or max_length
    logger.info("%s: %s on %s (%s), inputs truncated at %d tokens", scorer, model, chosen, loaded.dtype, effective)
    return SequenceClassifier(model, model_revision(model, loaded.config, revision), tokenizer, loaded, chosen,
                              effective)


class SequenceClassifierScorer(Scorer):
    """What the classifier and zero-shot scorers share: one loaded model, its coverage and provenance."""

    classifier: SequenceClassifier
    covered: frozenset[str]
    batch_size: int

    def languages(self) -> frozenset[str]:
        return self.covered

    def model_id(self, language: str) -> str:
        return f"{self.classifier.name}@{self.classifier.revision}"

    def split_covered(self, utterances: Sequence[Utterance]) -> tuple[list[int], list[Values | None]]:
        """Indices of the covered utterances, and a result list in which every other one abstains."""
        return [i for i, u in enumerate(utterances) if u.language in self.covered], [None] * len(utterances)

    def provenance(self) -> dict[str, Any]:
        return {**super().provenance(), "model_id": self.classifier.name, "revision": self.classifier.revision,
                "batch_size": self.batch_size, "max_length": self.classifier.max_length}
