"""Progress of a simulation: turns, calls, calls/s, tokens, cost, errors, parse errors, re-asks and ETA, at most
every few seconds."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

PROGRESS_LOGGER = logging.getLogger("simulation.progress")


def _duration(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s"


@dataclass
class ProgressReporter:
    """Formats ``SimulationStats`` into one line and hands it to ``emit`` (a logger, Dagster's context.log)."""

    total_turns: int
    emit: Callable[[str], Any] = PROGRESS_LOGGER.info
    interval_s: float = 2.0
    started: float = field(default_factory=time.monotonic)
    _last: float = 0.0

    def line(self, stats: Any) -> str:
        elapsed = max(time.monotonic() - self.started, 1e-9)
        done = stats.turns_written
        share = done / self.total_turns if self.total_turns else 1.0
        eta = _duration(elapsed / done * (self.total_turns - done)) if done else "?"
        return (f"simulation: {done}/{self.total_turns} turns ({share:.0%}), {stats.calls} calls "
                f"({stats.cache_hits} from cache), {stats.calls / elapsed:.1f} calls/s, "
                f"{stats.tokens_in + stats.tokens_out} tokens, ${stats.cost_usd:.4f}, {stats.errors} errors, "
                f"{stats.parse_errors} parse errors ({stats.reasks} re-asks), ETA {eta}")

    def update(self, stats: Any, *, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - self._last >= self.interval_s:
            self._last = now
            self.emit(self.line(stats))
