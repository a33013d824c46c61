"""Progress of a simulation: one line at most every few seconds, naming the language, its turns, the calls the
endpoint answered and failed (the counts the budget's stop message uses), successful calls per second, tokens,
cost, parse errors, re-asks and ETA, and, inside a command that plays several languages, the overall turns."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, MutableMapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

PROGRESS_LOGGER = logging.getLogger("simulation.progress")


def _duration(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s"


@dataclass
class CommandProgress:
    """One CLI command's languages and turns: each language is a separate Dagster run with its own reporter, so
    the overall count lives here (set by the command, read by every reporter in the process)."""

    languages: list[str]
    total_turns: int
    """Turns of the whole design, stored or not: the overall denominator."""
    finished_turns: int = 0
    """Turns of the languages already finished in this command (stored before or played now)."""
    shared_turns: MutableMapping[str, int] | None = None
    """Turns done (stored or played) per language, shared by the processes of a command whose languages play side
    by side (a ``multiprocessing`` manager's dict): the overall count is their sum. None: one process."""

    def position(self, languages: Sequence[str]) -> str:
        if len(languages) == 1 and languages[0] in self.languages:
            return f"{languages[0]} {self.languages.index(languages[0]) + 1}/{len(self.languages)} languages"
        return ", ".join(languages)


_COMMAND: CommandProgress | None = None


def current_command() -> CommandProgress | None:
    """The command whose languages are playing, if any (its worker processes get its languages and total)."""
    return _COMMAND


@contextmanager
def command_progress(languages: Sequence[str], total_turns: int, *,
                     shared_turns: MutableMapping[str, int] | None = None) -> Iterator[CommandProgress]:
    """While the block runs, progress lines add the language's position and the command's overall turns."""
    global _COMMAND
    previous, _COMMAND = _COMMAND, CommandProgress(list(languages), total_turns, shared_turns=shared_turns)
    try:
        yield _COMMAND
    finally:
        _COMMAND = previous


@dataclass
class ProgressReporter:
    """Formats ``SimulationStats`` into one line and hands it to ``emit`` (a logger, Dagster's context.log).

    ``total_turns`` are the turns this invocation plays; ``planned_turns`` (default the same) are all turns of its
    runs, stored ones included, which the overall count adds up across languages.
    """

    total_turns: int
    emit: Callable[[str], Any] = PROGRESS_LOGGER.info
    languages: Sequence[str] = ()
    planned_turns: int | None = None
    interval_s: float = 2.0
    started: float = field(default_factory=time.monotonic)
    command: CommandProgress | None = field(default_factory=lambda: _COMMAND)
    _last: float = 0.0

    def line(self, stats: Any) -> str:
        elapsed = max(time.monotonic() - self.started, 1e-9)
        done = stats.turns_written
        share = done / self.total_turns if self.total_turns else 1.0
        eta = _duration(elapsed / done * (self.total_turns - done)) if done else "?"
        spending = stats.spending
        label = self.command.position(self.languages) if self.command else ", ".join(self.languages)
        text = (f"simulation{f' [{label}]' if label else ''}: {done}/{self.total_turns} turns ({share:.0%}), "
                f"{spending.calls} calls, {spending.errors} failed, {stats.cache_hits} from cache, "
                f"{(spending.calls - spending.errors) / elapsed:.1f} ok calls/s, "
                f"{stats.tokens_in + stats.tokens_out} tokens, ${stats.cost_usd:.4f}, "
                f"{stats.parse_errors} parse errors ({stats.reasks} re-asks), ETA {eta}")
        if self.command is not None:
            planned = self.total_turns if self.planned_turns is None else self.planned_turns
            if self.command.shared_turns is not None:
                self.command.shared_turns[", ".join(self.languages)] = planned - self.total_turns + done
                overall = sum(self.command.shared_turns.values())
            else:
                overall = self.command.finished_turns + planned - self.total_turns + done
            total = max(self.command.total_turns, overall)
            text += f"; overall {overall}/{total} turns ({overall / total if total else 1.0:.0%})"
        return text

    def update(self, stats: Any, *, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - self._last >= self.interval_s:
            self._last = now
            self.emit(self.line(stats))

    def finish(self, stats: Any) -> None:
        """The last line of this invocation; its turns then count as finished in the command's overall."""
        self.update(stats, force=True)
        if self.command is not None:
            self.command.finished_turns += self.total_turns if self.planned_turns is None else self.planned_turns
