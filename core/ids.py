"""Deterministic identifiers: an id is a hash of the inputs that define the thing it names."""

from __future__ import annotations

import hashlib
import json
from typing import Any


def stable_hash(*parts: Any, length: int = 16) -> str:
    """Hex digest of the canonical JSON of ``parts``; the same inputs give the same id on every machine."""
    payload = json.dumps(parts, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:length]


def derive_seed(*parts: Any) -> int:
    """A 63-bit integer seed derived from ``parts``, so every random draw is reproducible from the study seed."""
    return int(stable_hash(*parts, length=16), 16) & ((1 << 63) - 1)
