"""One retry loop for every backend: backends classify errors, this wrapper waits and retries."""

from __future__ import annotations

import asyncio
import logging
import random
import time

from simulation.backends.base import Backend, GenerationConfig, Message, Reply

logger = logging.getLogger(__name__)
BASE_DELAY_S = 0.5
"""First backoff step; tests set it to 0 (a module value, so the wrapper's signature stays the contract)."""


async def generate_with_retries(backend: Backend, messages: list[Message], config: GenerationConfig, *,
                                max_retries: int = 4, base_delay_s: float | None = None,
                                max_delay_s: float = 30.0, rng: random.Random | None = None) -> Reply:
    """Call ``backend.generate``; back off with full jitter on retryable errors.

    After the last attempt the failure is returned as a ``Reply`` with status ``error`` (never raised), so
    the turn is stored with its reason instead of being dropped.
    """
    rng = rng or random.Random()
    base_delay_s = BASE_DELAY_S if base_delay_s is None else base_delay_s
    started = time.perf_counter()
    attempt = 0
    while True:
        try:
            return await backend.generate(messages, config)
        except Exception as exc:  # classified below; anything not retryable becomes an error reply
            decision = backend.should_retry(exc)
            if not decision.retry or attempt >= max_retries:
                return Reply(text="", status="error", error=backend.redact(f"{type(exc).__name__}: {exc}")[:500],
                             latency_ms=(time.perf_counter() - started) * 1000)
            delay = decision.retry_after_s
            if delay is None:
                delay = rng.uniform(0, min(max_delay_s, base_delay_s * 2**attempt))
            attempt += 1
            logger.warning("retry %d/%d on %s after %.2fs (%s: %s)", attempt, max_retries, backend.connection_key(),
                           delay, decision.reason, type(exc).__name__)
            await asyncio.sleep(delay)
