"""A registered test backend whose ``generate`` has a bug: it raises ``TypeError`` on its Nth call."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from simulation.backends.base import Backend, GenerationConfig, Message, Reply

NAME = "faulty"


@dataclass
class FaultyBackend(Backend):
    """Answers readable talk/monologue after a short sleep (so a turn's calls are in flight together), except
    on call number ``fail_on_call`` (1-based), which raises ``TypeError`` at once; 0 never fails."""

    fail_on_call: int = 0
    delay_s: float = 0.05
    name: str = field(default=NAME, init=False)
    calls: list[tuple[int, int]] = field(default_factory=list)
    """(turn, agent_idx) of every call, in the order they started."""
    finished: int = 0
    cancelled: int = 0

    async def generate(self, messages: list[Message], config: GenerationConfig) -> Reply:
        context = config.context
        assert context is not None
        self.calls.append((context.turn, context.agent_idx))
        if len(self.calls) == self.fail_on_call:
            raise TypeError("unsupported operand type(s) for +: 'int' and 'NoneType'")
        try:
            await asyncio.sleep(self.delay_s)
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
        self.finished += 1
        return Reply(text=json.dumps({"talk": f"turn {context.turn} from {context.agent_idx}",
                                      "monologue": "fine"}), tokens_in=10, tokens_out=5)


@contextmanager
def registered_faulty_backend(backend: FaultyBackend) -> Iterator[FaultyBackend]:
    """Register ``backend`` (the same instance for every build) as ``faulty`` while the block runs."""
    from simulation.backends.registry import _BACKENDS, register_backend

    register_backend(NAME)(lambda model, options: backend)
    try:
        yield backend
    finally:
        _BACKENDS.pop(NAME, None)


def faulty_study_dict(n_turns: int = 4, n_agents: int = 4) -> dict:
    """One run (en, one share, one replicate) of the faulty backend."""
    return {"name": "faulty", "seed": 7,
            "design": {"languages": ["en"], "aligned_shares": [0.0], "replicates": 1, "n_agents": n_agents,
                       "n_turns": n_turns},
            "models": [{"name": "faulty-chat", "backend": NAME, "max_retries": 3}]}
