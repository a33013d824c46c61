"""The gold-labelled validation set: ``scoring/gold/<code>.yaml`` (sentences with label A, the writer's) and
``scoring/gold/labels_b/<code>.yaml`` (label B, an independent second labeler's), validated, split and hashed.

The split is fixed by hash, never by hand: within each language, batch and label A, sentences are ordered by
``sha256(id)`` and alternate dev, test, dev, ... (first = dev). A later batch (``batch: 2``, written after
lexicon work had seen batch 1's dev half) is split on its own, so adding it never moves a sentence of an earlier
batch from one half to the other. The gold label is A where A and B agree on
``label``; a disagreement is kept and counted, and excluded from precision and recall.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import yaml

from core.errors import BackfireError, combine
from simulation.content import PATHOLOGY_KINDS

GOLD_DIR = Path(__file__).resolve().parents[1] / "gold"
"""The shipped gold set (``scoring/gold/``); ``--gold DIR`` and tests point elsewhere."""
LABELS = ("pathology", "protective", "neutral")
SUBCATEGORIES: dict[str, tuple[str | None, ...]] = {
    "pathology": PATHOLOGY_KINDS,
    "protective": ("conformity", "individuation", "general"),
    "neutral": (None,),
}
HARD_CASES = ("plain", "negated_marker", "quoted_or_echoed", "hedged_refusal", "condemning_by_quoting", "sarcasm",
              "mixed_language")
CHANNELS = ("talk", "monologue")
SPLITS = ("dev", "test")
_ID = re.compile(r"^(?P<code>[a-z]{2,3})-\d{3,}$")


@dataclass(frozen=True)
class GoldSentence:
    """One gold sentence with both labels; ``split`` is derived from the id, never written by hand."""

    id: str
    language: str
    channel: str
    text: str
    label: str
    subcategory: str | None
    hard_case: str
    label_b: str | None
    subcategory_b: str | None
    split: str = ""
    batch: int = 1
    """Which writing round the sentence came from; the split runs within each batch."""

    @property
    def agreed(self) -> bool:
        """A and B agree on ``label``: the sentence enters precision and recall with label A."""
        return self.label_b is not None and self.label_b == self.label


@dataclass(frozen=True)
class GoldSet:
    """Every loaded language's sentences, and the content hash of each language's two files."""

    sentences: tuple[GoldSentence, ...]
    hashes: dict[str, str]

    def languages(self) -> list[str]:
        return sorted(self.hashes)

    def select(self, *, split: str | None = None, languages: Iterable[str] | None = None) -> list[GoldSentence]:
        wanted = set(languages) if languages is not None else None
        return [s for s in self.sentences
                if (split is None or s.split == split) and (wanted is None or s.language in wanted)]


def _field_error(file: Path, field: str, problem: str, fix: str) -> BackfireError:
    return BackfireError(problem, file=str(file), field=field, fix=fix)


def _read_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise BackfireError(f"not valid YAML ({exc})", file=str(path), fix="fix the YAML syntax") from exc


def _check_label(file: Path, where: str, label: Any, subcategory: Any) -> list[BackfireError]:
    if label not in LABELS:
        return [_field_error(file, f"{where}.label", f"{label!r} is not a label", f"use one of {', '.join(LABELS)}")]
    allowed = SUBCATEGORIES[label]
    if subcategory not in allowed:
        shown = ", ".join("null" if s is None else s for s in allowed)
        return [_field_error(file, f"{where}.subcategory", f"{subcategory!r} is not a subcategory of {label}",
                             f"use {shown}")]
    return []


def _sentences(path: Path, code: str, data: Any) -> tuple[list[dict[str, Any]], list[BackfireError]]:
    errors: list[BackfireError] = []
    if not isinstance(data, dict) or not isinstance(data.get("sentences"), list):
        return [], [_field_error(path, "sentences", "missing or not a list",
                                 "write `sentences:` as a list of {id, channel, text, gloss, label, subcategory, "
                                 "hard_case} (docs/metrics.md, section 3c)")]
    if data.get("language") != code:
        errors.append(_field_error(path, "language", f"{data.get('language')!r} does not match the file name",
                                   f"write `language: {code}`"))
    found, seen = [], set()
    for i, item in enumerate(data["sentences"]):
        where = f"sentences[{i}]"
        if not isinstance(item, dict):
            errors.append(_field_error(path, where, "not a mapping", "write id, channel, text, label, ..."))
            continue
        sid = item.get("id")
        match = _ID.match(str(sid or ""))
        if not match or match.group("code") != code:
            errors.append(_field_error(path, f"{where}.id", f"{sid!r} is not an id of this language",
                                       f"use {code}-NNN (stable forever, never reused)"))
            continue
        where = f"{where} ({sid})"
        if sid in seen:
            errors.append(_field_error(path, f"{where}.id", "duplicate id", "give every sentence its own id"))
            continue
        seen.add(sid)
        if item.get("channel") not in CHANNELS:
            errors.append(_field_error(path, f"{where}.channel", f"{item.get('channel')!r} is not a channel",
                                       "use talk or monologue"))
        if not isinstance(item.get("text"), str) or not item["text"].strip():
            errors.append(_field_error(path, f"{where}.text", "missing or empty", "write the sentence"))
        if item.get("hard_case") not in HARD_CASES:
            errors.append(_field_error(path, f"{where}.hard_case", f"{item.get('hard_case')!r} is not a hard case",
                                       f"use one of {', '.join(HARD_CASES)}"))
        batch = item.get("batch", 1)
        if not isinstance(batch, int) or isinstance(batch, bool) or batch < 1:
            errors.append(_field_error(path, f"{where}.batch", f"{batch!r} is not a batch number",
                                       "leave it out (batch 1) or write a positive integer"))
            continue
        label_errors = _check_label(path, where, item.get("label"), item.get("subcategory"))
        errors += label_errors
        if not label_errors:
            found.append(item)
    return found, errors


def _labels_b(path: Path, code: str, ids: set[str]) -> tuple[dict[str, tuple[str, str | None]], list[BackfireError]]:
    if not path.is_file():
        return {}, []  # B not written yet: every sentence counts as not agreed (reported, never silently A)
    data = _read_yaml(path)
    if not isinstance(data, dict) or not isinstance(data.get("labels"), dict):
        return {}, [_field_error(path, "labels", "missing or not a mapping",
                                 "write `labels:` as {<id>: {label: ..., subcategory: ...}}")]
    errors: list[BackfireError] = []
    if data.get("language") != code:
        errors.append(_field_error(path, "language", f"{data.get('language')!r} does not match the file name",
                                   f"write `language: {code}`"))
    found: dict[str, tuple[str, str | None]] = {}
    for sid, item in data["labels"].items():
        where = f"labels.{sid}"
        if sid not in ids:
            errors.append(_field_error(path, where, "no sentence with this id in the gold file",
                                       f"label only ids of {code}.yaml"))
            continue
        if not isinstance(item, dict):
            errors.append(_field_error(path, where, "not a mapping", "write {label: ..., subcategory: ...}"))
            continue
        label_errors = _check_label(path, where, item.get("label"), item.get("subcategory"))
        errors += label_errors
        if not label_errors:
            found[sid] = (item["label"], item.get("subcategory"))
    return found, errors


def assign_split(sentences: Sequence[dict[str, Any]]) -> dict[str, str]:
    """dev/test by id: per batch and label A, ordered by ``sha256(id)``, alternating dev, test, ... (first =
    dev), so a new batch leaves the halves of the earlier ones as they were."""
    split: dict[str, str] = {}
    groups: dict[tuple[int, str], list[str]] = defaultdict(list)
    for item in sentences:
        groups[(item.get("batch", 1), item["label"])].append(item["id"])
    for ids in groups.values():
        for i, sid in enumerate(sorted(ids, key=lambda s: hashlib.sha256(s.encode("utf-8")).hexdigest())):
            split[sid] = SPLITS[i % 2]
    return split


def load_language(code: str, gold_dir: Path = GOLD_DIR) -> tuple[list[GoldSentence], str]:
    """One language's gold sentences with both labels and their split, and the hash of its two files.

    Raises:
        BackfireError: every problem of the two files at once, each naming file, sentence id, field and fix.
    """
    path = gold_dir / f"{code}.yaml"
    if not path.is_file():
        raise BackfireError(f"no gold file for language {code}", file=str(path),
                            fix=f"write {path.name} (docs/metrics.md, section 3c) or leave {code} out")
    raw_a = path.read_bytes()
    items, errors = _sentences(path, code, _read_yaml(path))
    path_b = gold_dir / "labels_b" / f"{code}.yaml"
    labels_b, errors_b = _labels_b(path_b, code, {item["id"] for item in items})
    if errors or errors_b:
        raise combine(errors + errors_b)
    split = assign_split(items)
    sentences = [GoldSentence(id=item["id"], language=code, channel=item["channel"], text=item["text"],
                              label=item["label"], subcategory=item.get("subcategory"), hard_case=item["hard_case"],
                              label_b=labels_b.get(item["id"], (None, None))[0],
                              subcategory_b=labels_b.get(item["id"], (None, None))[1], split=split[item["id"]],
                              batch=item.get("batch", 1))
                 for item in items]
    digest = hashlib.sha256(raw_a + b"\0" + (path_b.read_bytes() if path_b.is_file() else b"")).hexdigest()[:16]
    return sentences, digest


def gold_languages(gold_dir: Path = GOLD_DIR) -> list[str]:
    """Languages with a gold file."""
    return sorted(p.stem for p in gold_dir.glob("*.yaml")) if gold_dir.is_dir() else []


def load_gold(languages: Iterable[str] | None = None, gold_dir: Path = GOLD_DIR) -> GoldSet:
    """The gold set of ``languages`` (default: every language with a gold file).

    Raises:
        BackfireError: no gold file at all, or the problems of every file (all at once).
    """
    codes = list(languages) if languages is not None else gold_languages(gold_dir)
    if not codes:
        raise BackfireError("no gold validation files", file=str(gold_dir),
                            fix="write scoring/gold/<code>.yaml (docs/metrics.md, section 3c) or pass "
                                "--gold DIR")
    sentences: list[GoldSentence] = []
    hashes: dict[str, str] = {}
    errors: list[BackfireError] = []
    for code in codes:
        try:
            found, digest = load_language(code, gold_dir)
        except BackfireError as exc:
            errors.append(exc)
            continue
        sentences += found
        hashes[code] = digest
    if errors:
        raise combine(errors)
    return GoldSet(tuple(sentences), hashes)


def gold_set_hash(gold: GoldSet) -> str:
    """One hash over every loaded language's file hash (what the report names as the gold set's version)."""
    return hashlib.sha256(json.dumps(gold.hashes, sort_keys=True).encode("utf-8")).hexdigest()[:16]


def as_record(sentence: GoldSentence) -> dict[str, Any]:
    return asdict(sentence)
