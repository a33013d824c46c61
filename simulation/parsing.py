"""Tolerant parsing of an agent's reply into talk and monologue.

Models wrap JSON in code fences, add prose around it, or escape badly. A reply that still cannot be read is
kept verbatim as talk with status ``parse_error``, never dropped.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Literal

_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL | re.IGNORECASE)
_FIELD = r'"{key}"\s*:\s*"((?:[^"\\]|\\.)*)"'


@dataclass(frozen=True)
class ParsedReply:
    talk: str
    monologue: str
    status: Literal["ok", "parse_error"]


def _from_object(obj: object) -> ParsedReply | None:
    if isinstance(obj, dict) and isinstance(obj.get("talk"), str):
        monologue = obj.get("monologue")
        return ParsedReply(obj["talk"].strip(), monologue.strip() if isinstance(monologue, str) else "", "ok")
    return None


def _json_candidates(text: str) -> list[str]:
    candidates = [m.group(1) for m in _FENCE.finditer(text)]
    start, end = text.find("{"), text.rfind("}")
    if 0 <= start < end:
        candidates.append(text[start:end + 1])
    return [text, *candidates]


def parse_reply(text: str) -> ParsedReply:
    """Read ``{"talk": ..., "monologue": ...}`` from a completion, as tolerantly as is safe."""
    for candidate in _json_candidates(text.strip()):
        try:
            parsed = _from_object(json.loads(candidate))
        except (json.JSONDecodeError, ValueError):
            continue
        if parsed:
            return parsed
    talk = re.search(_FIELD.format(key="talk"), text, re.DOTALL)
    if talk:
        monologue = re.search(_FIELD.format(key="monologue"), text, re.DOTALL)
        unescape = lambda s: json.loads(f'"{s}"')  # noqa: E731
        try:
            return ParsedReply(unescape(talk.group(1)).strip(),
                               unescape(monologue.group(1)).strip() if monologue else "", "ok")
        except json.JSONDecodeError:
            pass
    return ParsedReply(text.strip(), "", "parse_error")
