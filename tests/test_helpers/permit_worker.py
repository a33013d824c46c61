"""A process that drives calls through the openai backend behind an endpoint lease (the permit tests' worker).

Importable by a spawned child: it needs nothing from the test module that starts it.
"""

from __future__ import annotations

import asyncio
from typing import Any


async def drive_calls(base_url: str, permits_url: str | None, calls: int, limit: int,
                      barrier: Any = None) -> dict[str, int]:
    """``calls`` concurrent calls through ``CallGate`` with a limit of ``limit``, leased from ``permits_url``
    (``None``: local permits). With a barrier, calls start once every process holds its lease.

    Returns how many replies were ok, the most calls this process had in flight, and the smallest capacity
    it was left with while calling (below ``limit`` when another process held permits)."""
    from core.study import ModelSpec
    from simulation.backends.base import GenerationConfig, Message
    from simulation.backends.openai_compatible import OpenAICompatibleBackend
    from simulation.engine import CallGate, endpoint_key
    from simulation.limits import AdjustableLimiter, LocalPermits, SqlPermits

    model = ModelSpec(name="tiny-chat", backend="openai", base_url=base_url, max_concurrency=limit)
    backend = OpenAICompatibleBackend(base_url=base_url, max_connections=limit)
    limiter = AdjustableLimiter()
    gate = CallGate(backend, model, limiter)
    source = SqlPermits(permits_url) if permits_url else LocalPermits()
    seen = {"max_in_flight": 0, "min_capacity": limit}

    async def one(i: int) -> bool:
        config = GenerationConfig(model="tiny-chat", seed=i)
        reply = await gate.call([Message("user", f"call {i}")], config)
        return reply.status == "ok"

    async def watch() -> None:
        while True:
            seen["max_in_flight"] = max(seen["max_in_flight"], limiter.in_flight)
            seen["min_capacity"] = min(seen["min_capacity"], limiter.capacity)
            await asyncio.sleep(0.005)

    try:
        async with source.lease(endpoint_key(backend, "tiny-chat"), limit, limiter):
            if barrier is not None:
                await asyncio.to_thread(barrier.wait, 60)
            watcher = asyncio.create_task(watch())
            ok = await asyncio.gather(*(one(i) for i in range(calls)))
            watcher.cancel()
    finally:
        await backend.aclose()
    return {"ok": sum(ok), **seen}


def worker(base_url: str, permits_url: str | None, calls: int, limit: int, barrier: Any, results: Any) -> None:
    """A child process's entry: one ``drive_calls``, its result put on ``results``."""
    results.put(asyncio.run(drive_calls(base_url, permits_url, calls, limit, barrier)))
