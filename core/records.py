"""Value types that cross layers: a chat message, a completion, and one agent's record of a turn.

They live at the bottom so the warehouse can store them (transcripts, response cache) without importing the
simulation that produces them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ReplyStatus = Literal["ok", "refused", "truncated", "error"]
"""``truncated``: the completion was cut off at ``max_tokens`` (OpenAI ``finish_reason == "length"``)."""


@dataclass(frozen=True)
class Message:
    role: Literal["system", "user", "assistant"]
    content: str


@dataclass(frozen=True)
class Reply:
    """The raw completion and its accounting; ``status`` is ``error`` when every retry failed, ``truncated`` when
    the completion stopped at ``max_tokens`` (its text is kept as far as it got)."""

    text: str
    status: ReplyStatus = "ok"
    tokens_in: int = 0
    tokens_out: int = 0
    latency_ms: float = 0.0
    error: str | None = None
    cache_hit: bool = False
    cost_usd: float = 0.0
    """What the call cost at the model's prices when it was made (0 for a cache hit); set by the engine."""
    served_model: str | None = None
    """The model the endpoint says it served (an OpenAI-compatible body's ``model``; ``id@commit`` for a local
    model; ``synthetic`` for the synthetic backend): an alias such as ``gpt-4o-mini`` can be served by a newer
    snapshot than the one a study was run on. None for a failed call or a completion cached before it was kept."""
    system_fingerprint: str | None = None
    """The endpoint's ``system_fingerprint`` (its backend configuration); None when it sends none."""


@dataclass(frozen=True)
class TurnRecord:
    """What one agent said in one turn: public talk and private monologue."""

    turn: int
    agent_idx: int
    talk: str
    monologue: str
