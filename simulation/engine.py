"""The multi-agent engine: n agents x n turns, simultaneous turns over a shared public-history window.

The agents of a turn all see the same history and are called concurrently; the turn is written whole before
the next begins, so the unit of resumption is (run, turn). Runs proceed concurrently up to a limit.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from simulation.backends.base import AgentContext, Backend, GenerationConfig, Message, Reply
from simulation.backends.retry import generate_with_retries
from simulation.budget import Spending
from simulation.content import load_language
from simulation.design import AgentSpec, RunSpec
from simulation.ids import derive_seed, stable_hash
from simulation.parsing import parse_reply
from simulation.progress import ProgressReporter
from simulation.prompts import TurnRecord, probe_messages, system_prompt, turn_messages
from simulation.study import Budget, ModelSpec

logger = logging.getLogger(__name__)


class ResponseCache(Protocol):
    def get(self, call_key: str) -> Reply | None:
        ...

    def put(self, call_key: str, model: str, endpoint: str, reply: Reply) -> None:
        ...


@dataclass
class CallGate:
    """Everything between the engine and one model's endpoint: concurrency limit, retries, response cache."""

    backend: Backend
    model: ModelSpec
    limit: asyncio.Semaphore
    cache: ResponseCache | None = None
    spending: Spending = field(default_factory=lambda: Spending(Budget()))

    async def call(self, messages: list[Message], config: GenerationConfig) -> Reply:
        key = None
        if self.cache is not None and not self.backend.is_synthetic:
            key = stable_hash(self.model.name, self.backend.connection_key(), [(m.role, m.content) for m in messages],
                              config.temperature, config.max_tokens, config.seed)
            cached = self.cache.get(key)
            if cached is not None:
                return cached
        async with self.limit:
            self.spending.check()
            reply = await generate_with_retries(self.backend, messages, config, max_retries=self.model.max_retries)
            self.spending.record(self.model, reply)
        if key is not None and self.cache is not None:
            self.cache.put(key, self.model.name, self.backend.connection_key(), reply)
        return reply


class TranscriptStore(Protocol):
    def load_history(self, run_ids: Sequence[str], n_agents: dict[str, int]) -> dict[str, list[list[TurnRecord]]]:
        ...

    def write_turn(self, rows: Sequence[dict[str, Any]]) -> None:
        ...

    def flush(self) -> None:
        ...


@dataclass
class SimulationStats:
    """Counts for logs and Dagster metadata."""

    runs_total: int = 0
    runs_skipped_complete: int = 0
    turns_resumed_from: dict[str, int] = field(default_factory=dict)
    turns_written: int = 0
    calls: int = 0
    errors: int = 0
    parse_errors: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    cache_hits: int = 0
    spending: Spending = field(default_factory=lambda: Spending(Budget()), repr=False)
    """The invocation's calls and cost; the one place cost is counted."""

    @property
    def cost_usd(self) -> float:
        return self.spending.cost_usd


def utterance_id(run_id: str, turn: int, agent_idx: int, channel: str) -> str:
    return stable_hash(run_id, turn, agent_idx, channel)


def target_index(run: RunSpec) -> int:
    """The member the scenario singles out (the silent one): a seeded draw per run."""
    return random.Random(derive_seed(run.seed, "target")).randrange(run.n_agents)


def _utterance_rows(run: RunSpec, turn: int, agent_idx: int, reply: Reply, talk: str, monologue: str,
                    status: str, now: Any) -> list[dict[str, Any]]:
    """Two rows per call; call accounting (tokens, latency) sits on the talk row only, so sums count once."""
    base = dict(run_id=run.run_id, turn=turn, agent_idx=agent_idx, status=status, error=reply.error,
                cache_hit=reply.cache_hit, model=run.model, backend=run.backend, created_at=now)
    return [
        dict(base, utterance_id=utterance_id(run.run_id, turn, agent_idx, "talk"), channel="talk", text=talk,
             tokens_in=reply.tokens_in, tokens_out=reply.tokens_out, latency_ms=reply.latency_ms),
        dict(base, utterance_id=utterance_id(run.run_id, turn, agent_idx, "monologue"), channel="monologue",
             text=monologue, tokens_in=None, tokens_out=None, latency_ms=None),
    ]


def _probe_row(run: RunSpec, turn: int, agent_idx: int, probe: Reply, now: Any) -> dict[str, Any]:
    """The interview answer, free text on the ``probe`` channel, with its own call accounting."""
    return dict(utterance_id=utterance_id(run.run_id, turn, agent_idx, "probe"), run_id=run.run_id, turn=turn,
                agent_idx=agent_idx, channel="probe", text=probe.text.strip(), status=probe.status,
                error=probe.error, tokens_in=probe.tokens_in, tokens_out=probe.tokens_out,
                latency_ms=probe.latency_ms, cache_hit=probe.cache_hit, model=run.model, backend=run.backend,
                created_at=now)


async def simulate_run(run: RunSpec, agents: Sequence[AgentSpec], model: ModelSpec, gate: CallGate,
                       store: TranscriptStore, history: list[list[TurnRecord]], stats: SimulationStats,
                       clock: Callable[[], Any], reporter: ProgressReporter | None = None) -> None:
    """Play the remaining turns of one run, writing each turn as it completes."""
    pack = load_language(run.language).pack
    personas = {p.id: p for p in pack.personas}
    members = [personas[a.persona_id] for a in sorted(agents, key=lambda a: a.agent_idx)]
    names = [p.name for p in members]
    target_name = names[target_index(run)]
    systems = [system_prompt(pack, members[a.agent_idx], aligned=a.aligned, individuated=a.individuated)
               for a in sorted(agents, key=lambda a: a.agent_idx)]
    by_idx = {a.agent_idx: a for a in agents}
    for turn in range(len(history) + 1, run.n_turns + 1):
        event = pack.scenario.events[turn - 1]
        previous_talk = tuple(r.talk for r in history[-1]) if history else ()

        async def call(idx: int, turn: int = turn, pressure: str = event.pressure,
                       previous: tuple[str, ...] = previous_talk) -> tuple[Reply, Reply | None]:
            """The agent's turn, then (at probe turns, after a usable reply) its private interview."""
            messages = turn_messages(pack, systems[idx], agent_idx=idx, turn=turn, names=names, history=history,
                                     window=run.history_window, target_name=target_name)
            context = AgentContext(run_seed=run.seed, language=run.language, turn=turn, n_turns=run.n_turns,
                                   agent_idx=idx, aligned=by_idx[idx].aligned,
                                   individuated=by_idx[idx].individuated, event_pressure=pressure,
                                   target_name=target_name, previous_talk=previous)
            config = GenerationConfig(model=model.name, temperature=model.temperature, max_tokens=model.max_tokens,
                                      seed=derive_seed(run.seed, turn, idx) % (2**31), context=context)
            reply = await gate.call(messages, config)
            if turn not in run.probe_turns or reply.status == "error":
                return reply, None
            probe_config = replace(config, context=replace(context, is_probe=True))
            probe = await gate.call(probe_messages(pack, messages, reply.text), probe_config)
            return reply, probe

        results = await asyncio.gather(*(call(i) for i in range(run.n_agents)))
        now = clock()
        rows: list[dict[str, Any]] = []
        records: list[TurnRecord] = []
        for idx, (reply, probe) in enumerate(results):
            if reply.status == "error":
                talk, monologue, status = "", "", "error"
                stats.errors += 1
            else:
                parsed = parse_reply(reply.text)
                talk, monologue = parsed.talk, parsed.monologue
                status = reply.status if parsed.status == "ok" else parsed.status
                stats.parse_errors += parsed.status == "parse_error"
            rows += _utterance_rows(run, turn, idx, reply, talk, monologue, status, now)
            records.append(TurnRecord(turn, idx, talk, monologue))
            for call_reply in (reply, probe):
                if call_reply is not None:
                    stats.cache_hits += call_reply.cache_hit
                    stats.calls += 1
                    stats.tokens_in += call_reply.tokens_in
                    stats.tokens_out += call_reply.tokens_out
            if probe is not None:
                stats.errors += probe.status == "error"
                rows.append(_probe_row(run, turn, idx, probe, now))
        store.write_turn(rows)
        history.append(records)
        stats.turns_written += 1
        if reporter is not None:
            reporter.update(stats)


async def simulate(runs: Sequence[RunSpec], agents: Mapping[str, Sequence[AgentSpec]],
                   models: Mapping[str, ModelSpec], backends: Mapping[str, Backend], store: TranscriptStore,
                   *, clock: Callable[[], Any], max_concurrent_runs: int = 32,
                   cache: ResponseCache | None = None, spending: Spending | None = None,
                   progress: Callable[[str], Any] | None = None) -> SimulationStats:
    """Simulate every run that is not complete yet, resuming partial runs at their first missing turn.

    Args:
        runs: the runs to bring to completion.
        agents: agents per run_id.
        models: model settings per model name.
        backends: a backend per model name; each has its own concurrency limit (``max_connections``).
        store: where turns are read from and written to.
        clock: returns the timestamp stored with each turn.
        max_concurrent_runs: runs in flight at once; each run's turn fans out to its n agents.
        cache: the response cache; real backends read and write it, the synthetic one skips it.
        spending: the invocation's budget; when it runs out, ``BudgetExhaustedError`` propagates after every
            finished turn has been written.
        progress: receives a progress line (turns, calls, calls/s, tokens, cost, errors, ETA) every 2 s.
    """
    stats = SimulationStats(runs_total=len(runs), spending=spending or Spending(Budget()))
    histories = store.load_history([r.run_id for r in runs], {r.run_id: r.n_agents for r in runs})
    pending = []
    for run in runs:
        done = len(histories.get(run.run_id, []))
        if done >= run.n_turns:
            stats.runs_skipped_complete += 1
            continue
        if done:
            stats.turns_resumed_from[run.run_id] = done + 1
        pending.append(run)
    logger.info("simulating %d of %d runs (%d complete, %d resumed)", len(pending), len(runs),
                stats.runs_skipped_complete, len(stats.turns_resumed_from))
    limit = asyncio.Semaphore(max_concurrent_runs)
    gates = {name: CallGate(backend, models[name], asyncio.Semaphore(backend.max_connections), cache,
                            stats.spending) for name, backend in backends.items()}
    remaining = sum(run.n_turns - len(histories.get(run.run_id, [])) for run in pending)
    reporter = ProgressReporter(remaining, emit=progress) if progress is not None else None

    async def guarded(run: RunSpec) -> None:
        async with limit:
            await simulate_run(run, agents[run.run_id], models[run.model], gates[run.model], store,
                               histories.get(run.run_id, []), stats, clock, reporter)

    try:
        await asyncio.gather(*(guarded(run) for run in pending))
    finally:
        store.flush()  # whatever finished is kept, even when a run fails or the study is interrupted
        for backend in backends.values():
            await backend.aclose()
        if reporter is not None:
            reporter.update(stats, force=True)
    return stats
