"""Loading and running ``transformers`` sequence-classification models (the classifier and zero-shot
scorers): by hub id or local path, on the picked device and dtype, in length-sorted batches."""

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


@dataclass
class SequenceClassifier:
    """A loaded model with its tokenizer, device and provenance."""

    name: str
    revision: str
    tokenizer: Any
    model: Any
    device: str
    max_length: int

    @property
    def labels(self) -> list[str]:
        return [self.model.config.id2label[i] for i in range(self.model.config.num_labels)]

    @property
    def multi_label(self) -> bool:
        return getattr(self.model.config, "problem_type", None) == "multi_label_classification"

    def logits(self, texts: Sequence[str], pairs: Sequence[str] | None = None, batch_size: int = 64) -> Any:
        """Logits (float32 numpy, input order) for texts, or for (text, pair) NLI inputs."""
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
                             revision: str | None = None, max_length: int = 256) -> SequenceClassifier:
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
    logger.info("%s: %s on %s (%s)", scorer, model, chosen, loaded.dtype)
    return SequenceClassifier(model, model_revision(model, loaded.config, revision), tokenizer, loaded, chosen,
                              max_length)


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
                "batch_size": self.batch_size}
