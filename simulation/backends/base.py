"""The backend interface: one async ``generate`` call, plus hooks with defaults (after inspect_ai's ModelAPI)."""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from typing import Literal

from core.records import Message, Reply, ReplyStatus

__all__ = ["AgentContext", "Backend", "EndpointError", "GenerationConfig", "Message", "Reply", "ReplyStatus",
           "RetryDecision"]


class EndpointError(Exception):
    """The endpoint failed in a way no transport exception describes (e.g. a reply outside the wire format).

    Backends raise it, or translate their own failures into it; like a timeout or a connection error it is
    retried when ``should_retry`` says so and finally stored as a failed call. Anything that is not an endpoint
    error is a bug and stops the simulation (``Backend.is_endpoint_error``).
    """


@dataclass(frozen=True)
class AgentContext:
    """What the engine knows about the call; real backends ignore it, the synthetic backend acts on it."""

    run_seed: int
    language: str
    turn: int
    n_turns: int
    agent_idx: int
    aligned: bool
    individuated: bool
    event_pressure: str
    target_name: str
    """The pack's target resident (``scenario.target_name``), written for ``{target}`` in the phrase banks."""
    previous_talk: tuple[str, ...] = ()
    """Last turn's public talk of the whole group (group pressure)."""
    is_probe: bool = False
    """The call is the internal-state interview, answered in free text."""


@dataclass(frozen=True)
class GenerationConfig:
    model: str
    temperature: float = 0.7
    max_tokens: int = 400
    seed: int | None = None
    top_p: float | None = None
    """Nucleus sampling mass; None leaves the backend's default (no nucleus filtering)."""
    context: AgentContext | None = None


@dataclass(frozen=True)
class RetryDecision:
    retry: bool
    reason: Literal["no", "transient", "rate_limit"] = "no"
    retry_after_s: float | None = None


@dataclass
class Backend(abc.ABC):
    """A model behind one interface. Subclasses implement ``generate``; hooks have safe defaults."""

    name: str = field(default="backend", init=False)
    max_connections: int = 16

    @abc.abstractmethod
    async def generate(self, messages: list[Message], config: GenerationConfig) -> Reply:
        """One chat completion; raise on endpoint failures so the retry wrapper can classify them."""

    def is_endpoint_error(self, error: Exception) -> bool:
        """Whether ``error`` is the endpoint's failure (retried, then stored as a failed call) and not a bug.

        The default covers ``EndpointError``, timeouts and connection errors (``OSError`` and its subclasses
        ``TimeoutError``, ``asyncio.TimeoutError`` and ``ConnectionError``). Backends add their client's error
        types. Any other exception is a bug: the retry wrapper raises it and the simulation stops.
        """
        return isinstance(error, EndpointError | OSError)

    def should_retry(self, error: Exception) -> RetryDecision:
        """Classify an endpoint error (``is_endpoint_error``); the default retries nothing."""
        return RetryDecision(retry=False)

    def connection_key(self) -> str:
        """Calls sharing a key share one concurrency limit."""
        return self.name

    async def aclose(self) -> None:
        """Release connections; called once when a simulation ends."""
        return None

    def cache_variant(self) -> str:
        """What, beyond the request's messages and sampling settings, makes this backend's completions differ
        (e.g. a response format); it enters the response cache's key when not empty (default: nothing)."""
        return ""

    def redact(self, text: str) -> str:
        """Remove secrets from text that will be logged or stored (error messages)."""
        return text

    @property
    def is_synthetic(self) -> bool:
        return False
