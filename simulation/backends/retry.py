"""One retry loop for every backend: backends classify errors, this wrapper waits and retries; bugs propagate."""

from __future__ import annotations

import asyncio
import logging
import math
import random
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from core.errors import BackfireError
from simulation.backends.base import Backend, GenerationConfig, Message, Reply

logger = logging.getLogger(__name__)
BASE_DELAY_S = 0.5
"""First backoff step; tests set it to 0 (a module value, so the wrapper's signature stays the contract)."""
WARN_EVERY_S = 10.0
"""At most one retry warning per endpoint in this many seconds: a dead endpoint retried by 128 calls in flight
would otherwise print a line per retry."""


@dataclass
class _Retries:
    """Retries against one endpoint: all of them, and those not yet reported in a warning line."""

    total: int = 0
    unreported: int = 0
    last_cause: str = ""
    last_warned: float = field(default=-math.inf)


_RETRIES: dict[str, _Retries] = {}


def _note_retry(key: str, cause: str, max_retries: int) -> None:
    """Count a retry; warn on the first one and then at most every ``WARN_EVERY_S`` with the count since."""
    entry = _RETRIES.setdefault(key, _Retries())
    entry.total += 1
    entry.unreported += 1
    entry.last_cause = cause
    now = time.monotonic()
    if now - entry.last_warned >= WARN_EVERY_S:
        logger.warning("%d %s against %s (up to %d per call; last cause: %s)", entry.unreported,
                       "retry" if entry.unreported == 1 else "retries", key, max_retries, cause)
        entry.unreported, entry.last_warned = 0, now


def pop_retry_summary(keys: Iterable[str]) -> list[str]:
    """One line per endpoint of ``keys`` that was retried: "N retries against KEY (last cause: ...)"; forgets
    them, so the next command counts afresh."""
    lines = []
    for key in keys:
        entry = _RETRIES.pop(key, None)
        if entry is not None and entry.total:
            lines.append(f"{entry.total} {'retry' if entry.total == 1 else 'retries'} against {key} "
                         f"(last cause: {entry.last_cause})")
    return lines


async def generate_with_retries(backend: Backend, messages: list[Message], config: GenerationConfig, *,
                                max_retries: int = 4, base_delay_s: float | None = None,
                                max_delay_s: float = 30.0, rng: random.Random | None = None) -> Reply:
    """Call ``backend.generate``; back off with full jitter on retryable endpoint errors.

    Only endpoint errors (``backend.is_endpoint_error``: timeouts, connection errors, HTTP error answers...)
    are retried. After the last attempt, or at once when ``should_retry`` says no, such a failure is returned
    as a ``Reply`` with status ``error`` (never raised), so the turn is stored with its reason instead of being
    dropped.

    Raises:
        Exception: any other exception, unchanged (a bug in the backend or the caller must not be paid for
            again and again, nor stored as the endpoint's failure), with a note naming the backend and model.
    """
    rng = rng or random.Random()
    base_delay_s = BASE_DELAY_S if base_delay_s is None else base_delay_s
    started = time.perf_counter()
    attempt = 0
    while True:
        try:
            return await backend.generate(messages, config)
        except Exception as exc:
            if not backend.is_endpoint_error(exc):
                if not isinstance(exc, BackfireError):  # a user error already says where and how to fix it
                    add_note_once(exc, f"in backend '{backend.name}' (model {config.model})")
                raise
            decision = backend.should_retry(exc)
            if not decision.retry or attempt >= max_retries:
                return Reply(text="", status="error", error=backend.redact(f"{type(exc).__name__}: {exc}")[:500],
                             latency_ms=(time.perf_counter() - started) * 1000)
            delay = decision.retry_after_s
            if delay is None:
                delay = rng.uniform(0, min(max_delay_s, base_delay_s * 2**attempt))
            attempt += 1
            logger.debug("retry %d/%d on %s after %.2fs (%s: %s)", attempt, max_retries, backend.connection_key(),
                         delay, decision.reason, type(exc).__name__)
            cause = backend.redact(f"{decision.reason}, {type(exc).__name__}: {exc}")[:300]
            _note_retry(backend.connection_key(), cause, max_retries)
            await asyncio.sleep(delay)


def add_note_once(error: BaseException, note: str) -> None:
    """Add context to an exception that propagates; one exception may pass here more than once (a failed
    batch fails every call in it with the same exception)."""
    if note not in getattr(error, "__notes__", ()):
        error.add_note(note)
