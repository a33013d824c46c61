"""Tolerant parsing of an agent's reply into talk and monologue.

Models wrap JSON in code fences, add prose around it, or escape badly. A reply that still cannot be read is
kept verbatim as talk with status ``parse_error``, never dropped. A reply cut off at ``max_tokens`` is read
with ``parse_truncated_reply``: the field that was being written when the cut came is kept as far as it got.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Literal

_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL | re.IGNORECASE)
_FIELD = r'"{key}"\s*:\s*"((?:[^"\\]|\\.)*)"'
_CUT_FIELD = r'"{key}"\s*:\s*"((?:[^"\\]|\\.)*)\\?\Z'
"""A string field still open at the end of the text (the cut came inside it, maybe inside an escape)."""
_PARTIAL_ESCAPE = re.compile(r"\\(u[0-9a-fA-F]{0,3})?\Z")


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


def _unescape_partial(raw: str) -> str:
    """A JSON string body as far as it got: a trailing incomplete escape is dropped; raw when still unreadable."""
    for body in (raw, _PARTIAL_ESCAPE.sub("", raw)):
        try:
            return str(json.loads(f'"{body}"')).strip()
        except json.JSONDecodeError:
            continue
    return raw.strip()


def _field(text: str, key: str) -> str | None:
    """A field's value, complete or cut off at the end of the text; None when the field never started."""
    for pattern in (_FIELD, _CUT_FIELD):
        found = re.search(pattern.format(key=key), text, re.DOTALL)
        if found:
            return _unescape_partial(found.group(1))
    return None


def parse_truncated_reply(text: str) -> ParsedReply:
    """Read a reply cut off at ``max_tokens``: both channels as far as they got.

    ``parse_reply`` alone would lose a monologue cut mid-way (an unterminated string is no field) and turn
    it into an empty monologue, which biases ``monologue_ratio`` downwards exactly where replies are long.
    Here a field still open at the end of the text is kept up to the cut. A reply with no readable talk is
    returned as ``parse_reply`` returns it (the raw text as talk, status ``parse_error``); the engine stores
    every cut-off reply with status ``truncated`` whatever this returns.
    """
    parsed = parse_reply(text)
    if parsed.status == "ok" and parsed.monologue:
        return parsed
    talk = parsed.talk if parsed.status == "ok" else _field(text, "talk")
    if talk is None:
        return parsed
    return ParsedReply(talk, parsed.monologue or _field(text, "monologue") or "", "ok")
