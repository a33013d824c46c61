"""The multi-agent engine: n agents x n turns, simultaneous turns over a shared public-history window.

The agents of a turn all see the same history and are called concurrently; the turn is written whole before
the next begins, so the unit of resumption is (run, turn). Runs proceed concurrently up to a limit.

An exception from a call (a bug in a backend, a spent budget) stops everything: the turn's other calls and the
other runs are cancelled, no call is launched after it, the failed turn stores nothing, the finished turns
are flushed, and the exception propagates. Endpoint failures are not exceptions here: the retry wrapper
returns them as replies with status ``error``, which are stored.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, field, replace
from typing import Any, Protocol, TypeVar

from core.errors import BackfireError
from core.ids import derive_seed, stable_hash
from core.records import TurnRecord
from core.study import Budget, ModelSpec
from simulation.backends.base import AgentContext, Backend, GenerationConfig, Message, Reply
from simulation.backends.registry import requested_model_id
from simulation.backends.retry import add_note_once, generate_with_retries, pop_retry_summary
from simulation.budget import FailureThresholdError, Spending, call_cost_usd
from simulation.content import load_language
from simulation.design import AgentSpec, RunSpec
from simulation.limits import AdjustableLimiter, LocalPermits, PermitSource
from simulation.parsing import parse_reply, parse_truncated_reply
from simulation.progress import ProgressReporter
from simulation.prompts import probe_messages, system_prompt, turn_messages

logger = logging.getLogger(__name__)
T = TypeVar("T")


class ResponseCache(Protocol):
    def get(self, call_key: str) -> Reply | None:
        ...

    def put(self, call_key: str, model: str, endpoint: str, reply: Reply) -> None:
        ...

    def flush(self) -> None:
        ...


@dataclass
class CallGate:
    """Everything between the engine and one model's endpoint: concurrency limit, retries, response cache.

    ``limit`` is shared by every gate of the same endpoint and requested model (``endpoint_key``); its capacity
    is set by a ``PermitSource`` lease, so it can follow what other processes calling the endpoint leave free.
    """

    backend: Backend
    model: ModelSpec
    limit: AdjustableLimiter
    cache: ResponseCache | None = None
    spending: Spending = field(default_factory=lambda: Spending(Budget()))
    request_id: str = ""
    """The model id the backend asks for (``registry.requested_model_id``: a pinned snapshot, or the name)."""

    def __post_init__(self) -> None:
        self.request_id = self.request_id or requested_model_id(self.model)

    async def call(self, messages: list[Message], config: GenerationConfig) -> Reply:
        key = None
        if self.cache is not None and not self.backend.is_synthetic:
            # A pinned snapshot or a top_p asks for other completions; without them keys stay what they were.
            pinned = [("model", config.model)] if config.model != self.model.name else []
            nucleus = [("top_p", config.top_p)] if config.top_p is not None else []
            variant = self.backend.cache_variant()
            variants = [("variant", variant)] if variant and not (config.context and config.context.is_probe) else []
            key = stable_hash(self.model.name, self.backend.connection_key(), [(m.role, m.content) for m in messages],
                              config.temperature, config.max_tokens, config.seed, *pinned, *nucleus, *variants)
            cached = self.cache.get(key)
            if cached is not None:
                return cached
        async with self.limit:
            self.spending.check()
            reply = await generate_with_retries(self.backend, messages, config, max_retries=self.model.max_retries)
            reply = replace(reply, cost_usd=call_cost_usd(self.model, reply))
            self.spending.record(reply)
        if key is not None and self.cache is not None:
            self.cache.put(key, self.model.name, self.backend.connection_key(), reply)
        return reply


class TranscriptStore(Protocol):
    def load_history(self, run_ids: Sequence[str], n_agents: dict[str, int]) -> dict[str, list[list[TurnRecord]]]:
        ...

    def retire_turns_after(self, kept_turns: dict[str, int]) -> int:
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
    """Turn replies stored as ``parse_error`` (no re-ask made them readable)."""
    reasks: int = 0
    """Calls that asked again for a reply that was not readable JSON."""
    truncated: int = 0
    """Turn replies cut off at ``max_tokens`` (stored with status ``truncated``)."""
    tokens_in: int = 0
    tokens_out: int = 0
    cache_hits: int = 0
    utterances_superseded: int = 0
    """Stored utterances moved aside so failed turns (and the turns after them) are played again."""
    spending: Spending = field(default_factory=lambda: Spending(Budget()), repr=False)
    """The invocation's calls and cost; the one place cost is counted."""

    @property
    def cost_usd(self) -> float:
        return self.spending.cost_usd


async def gather_or_cancel(awaitables: Sequence[Awaitable[T]]) -> list[T]:
    """Await all concurrently; on the first exception cancel the others, wait until they are gone, raise it.

    ``asyncio.gather`` raises too, but leaves the other calls running (and paying) after the failure.
    """
    tasks = [asyncio.ensure_future(a) for a in awaitables]
    if not tasks:
        return []
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
        for task in tasks:
            if task.done() and not task.cancelled() and (error := task.exception()) is not None:
                raise error
        return [task.result() for task in tasks]
    finally:
        for task in tasks:
            task.cancel()  # a no-op for finished tasks
        await asyncio.gather(*tasks, return_exceptions=True)


def utterance_id(run_id: str, turn: int, agent_idx: int, channel: str) -> str:
    return stable_hash(run_id, turn, agent_idx, channel)


def call_seed(run_seed: int, model_seed: int | None, turn: int, agent_idx: int) -> int | None:
    """The seed sent with one call: fixed by run, turn and agent, so a replayed call asks for the same draw."""
    if model_seed is None:
        return None
    parts = (run_seed, turn, agent_idx) if model_seed == 0 else (run_seed, model_seed, turn, agent_idx)
    return derive_seed(*parts) % (2**31)


async def _ask_until_readable(gate: CallGate, output_format: str, messages: list[Message], config: GenerationConfig,
                              reply: Reply, max_reasks: int) -> tuple[Reply, int]:
    """Ask again, up to ``max_reasks`` times, when a reply cannot be read as talk/monologue.

    The re-ask shows the model its own reply and repeats the pack's output-format instruction (native text, so
    no language switches), with a seed of its own. The returned reply is the last one, carrying the tokens
    and latency of every attempt, so cost and accounting count each call once.

    Only an ``ok`` reply is asked again. A refusal is kept as it is, never argued with. A ``truncated`` reply
    (cut off at ``max_tokens``) is kept, not asked again: its format is not what failed but its length, and
    the same budget would cut the next attempt too, paying for a loop that cannot succeed; it is stored as
    ``truncated`` and left to the study's exclusion rule (``analysis.exclude_statuses``) and truncation gate
    (``quality.max_truncated_share``), whose fix is a larger ``max_tokens``. A re-ask that is cut off ends the
    re-asking the same way.
    """
    reasks = 0
    final = reply
    while (final.status == "ok" and reasks < max_reasks  # refused and truncated replies are kept as they are
           and parse_reply(final.text).status == "parse_error"):
        reasks += 1
        seed = None if config.seed is None else derive_seed(config.seed, "reask", reasks) % (2**31)
        again = await gate.call([*messages, Message("assistant", final.text), Message("user", output_format)],
                                replace(config, seed=seed))
        kept = final if again.status == "error" else again  # an unreadable reply beats none: kept as parse_error
        final = replace(kept, tokens_in=final.tokens_in + again.tokens_in,
                        tokens_out=final.tokens_out + again.tokens_out,
                        latency_ms=final.latency_ms + again.latency_ms,
                        cache_hit=final.cache_hit and again.cache_hit, cost_usd=final.cost_usd + again.cost_usd)
        if again.status == "error":
            break
    return final, reasks


def _utterance_rows(run: RunSpec, turn: int, agent_idx: int, reply: Reply, talk: str, monologue: str,
                    status: str, now: Any, reasks: int = 0) -> list[dict[str, Any]]:
    """Two rows per call; call accounting (tokens, latency, re-asks) sits on the talk row only, so sums count
    once."""
    base = dict(run_id=run.run_id, turn=turn, agent_idx=agent_idx, status=status, error=reply.error,
                cache_hit=reply.cache_hit, model=run.model, backend=run.backend, created_at=now,
                served_model=reply.served_model, system_fingerprint=reply.system_fingerprint)
    return [
        dict(base, utterance_id=utterance_id(run.run_id, turn, agent_idx, "talk"), channel="talk", text=talk,
             tokens_in=reply.tokens_in, tokens_out=reply.tokens_out, latency_ms=reply.latency_ms, reasks=reasks,
             cost_usd=reply.cost_usd),
        dict(base, utterance_id=utterance_id(run.run_id, turn, agent_idx, "monologue"), channel="monologue",
             text=monologue, tokens_in=None, tokens_out=None, latency_ms=None, reasks=None, cost_usd=None),
    ]


def _probe_row(run: RunSpec, turn: int, agent_idx: int, probe: Reply, now: Any) -> dict[str, Any]:
    """The interview answer, free text on the ``probe`` channel, with its own call accounting."""
    return dict(utterance_id=utterance_id(run.run_id, turn, agent_idx, "probe"), run_id=run.run_id, turn=turn,
                agent_idx=agent_idx, channel="probe", text=probe.text.strip(), status=probe.status,
                error=probe.error, tokens_in=probe.tokens_in, tokens_out=probe.tokens_out,
                latency_ms=probe.latency_ms, cache_hit=probe.cache_hit, model=run.model, backend=run.backend,
                created_at=now, reasks=0, cost_usd=probe.cost_usd, served_model=probe.served_model,
                system_fingerprint=probe.system_fingerprint)


async def simulate_run(run: RunSpec, agents: Sequence[AgentSpec], model: ModelSpec, gate: CallGate,
                       store: TranscriptStore, history: list[list[TurnRecord]], stats: SimulationStats,
                       clock: Callable[[], Any], reporter: ProgressReporter | None = None) -> None:
    """Play the remaining turns of one run, writing each turn as it completes."""
    pack = load_language(run.language).pack
    personas = {p.id: p for p in pack.personas}
    members = [personas[a.persona_id] for a in sorted(agents, key=lambda a: a.agent_idx)]
    names = [p.name for p in members]
    target_name = pack.scenario.target_name  # a scenario character, never one of the agents
    systems = [system_prompt(pack, members[a.agent_idx], aligned=a.aligned, individuated=a.individuated,
                             wording=run.wording)
               for a in sorted(agents, key=lambda a: a.agent_idx)]
    by_idx = {a.agent_idx: a for a in agents}
    for turn in range(len(history) + 1, run.n_turns + 1):
        event = pack.scenario.events[turn - 1]
        previous_talk = tuple(r.talk for r in history[-1]) if history else ()

        async def call(idx: int, turn: int = turn, pressure: str = event.pressure,
                       previous: tuple[str, ...] = previous_talk) -> tuple[Reply, int, Reply | None]:
            """The agent's turn, then (at probe turns, after a usable reply) its private interview."""
            messages = turn_messages(pack, systems[idx], agent_idx=idx, turn=turn, names=names, history=history,
                                     window=run.history_window)
            context = AgentContext(run_seed=run.seed, language=run.language, turn=turn, n_turns=run.n_turns,
                                   agent_idx=idx, aligned=by_idx[idx].aligned,
                                   individuated=by_idx[idx].individuated, event_pressure=pressure,
                                   target_name=target_name, previous_talk=previous)
            config = GenerationConfig(model=gate.request_id, temperature=model.temperature,
                                      max_tokens=model.max_tokens, top_p=model.top_p,
                                      seed=call_seed(run.seed, model.seed, turn, idx), context=context)
            reply = await gate.call(messages, config)
            reply, reasks = await _ask_until_readable(gate, pack.output_format, messages, config, reply,
                                                      model.max_reasks)
            if turn not in run.probe_turns or reply.status == "error":
                return reply, reasks, None
            probe_config = replace(config, context=replace(context, is_probe=True))
            probe = await gate.call(probe_messages(pack, messages, reply.text), probe_config)
            return reply, reasks, probe

        try:
            results = await gather_or_cancel([call(i) for i in range(run.n_agents)])
        except Exception as exc:
            if not isinstance(exc, BackfireError):  # a user error already says where and how to fix it
                add_note_once(exc, f"nothing was stored for the failed turn (run {run.run_id}, turn {turn})")
            raise
        now = clock()
        rows: list[dict[str, Any]] = []
        records: list[TurnRecord] = []
        for idx, (reply, reasks, probe) in enumerate(results):
            if reply.status == "error":
                talk, monologue, status = "", "", "error"
                stats.errors += 1
            else:
                truncated = reply.status == "truncated"
                parsed = parse_truncated_reply(reply.text) if truncated else parse_reply(reply.text)
                talk, monologue = parsed.talk, parsed.monologue
                # A refusal stays a refusal and a cut-off reply stays truncated (their text is kept whatever its
                # format, both channels as far as they got); otherwise the parse decides.
                status = reply.status if reply.status in ("refused", "truncated") else parsed.status
                stats.parse_errors += status == "parse_error"
                stats.truncated += truncated
                stats.spending.record_reply(reply, status)
            rows += _utterance_rows(run, turn, idx, reply, talk, monologue, status, now, reasks)
            records.append(TurnRecord(turn, idx, talk, monologue))
            stats.calls += reasks
            stats.reasks += reasks
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


def endpoint_key(backend: Backend, request_id: str) -> str:
    """What identifies an endpoint's concurrency limit across processes: its connection and the model asked for."""
    return stable_hash(backend.connection_key(), request_id)


def _endpoint_limiters(models: Mapping[str, ModelSpec], backends: Mapping[str, Backend]
                       ) -> tuple[dict[str, AdjustableLimiter], dict[str, tuple[int, AdjustableLimiter, bool]]]:
    """One limiter per endpoint key (models that share it share the smallest of their limits); per key, the
    limit, the limiter and whether the backend is local (synthetic: nothing to share with other processes)."""
    by_key: dict[str, tuple[int, AdjustableLimiter, bool]] = {}
    limiters: dict[str, AdjustableLimiter] = {}
    for name, backend in backends.items():
        key = endpoint_key(backend, requested_model_id(models[name]))
        known = by_key.get(key)
        limiter = known[1] if known else AdjustableLimiter()
        by_key[key] = (min(backend.max_connections, known[0]) if known else backend.max_connections, limiter,
                       backend.is_synthetic)
        limiters[name] = limiter
    return limiters, by_key


async def simulate(runs: Sequence[RunSpec], agents: Mapping[str, Sequence[AgentSpec]],
                   models: Mapping[str, ModelSpec], backends: Mapping[str, Backend], store: TranscriptStore,
                   *, clock: Callable[[], Any], max_concurrent_runs: int = 32,
                   cache: ResponseCache | None = None, spending: Spending | None = None,
                   progress: Callable[[str], Any] | None = None,
                   permits: PermitSource | None = None) -> SimulationStats:
    """Simulate every run that is not complete yet, resuming partial runs at their first missing turn.

    Args:
        runs: the runs to bring to completion.
        agents: agents per run_id.
        models: model settings keyed by ``RunSpec.model`` (``ModelSpec.stored_name``).
        backends: a backend keyed like ``models``; each has its own concurrency limit (``max_connections``).
        store: where turns are read from and written to.
        clock: returns the timestamp stored with each turn.
        max_concurrent_runs: runs in flight at once; each run's turn fans out to its n agents.
        cache: the response cache; real backends read and write it, the synthetic one skips it.
        spending: the invocation's budget; when it runs out, ``BudgetExhaustedError`` propagates after every
            finished turn has been written.
        progress: receives a progress line (language, turns, calls, failed calls, successful calls/s, tokens,
            cost, parse errors, ETA, and the command's overall turns) every 2 s.
        permits: where each endpoint's permits come from, leased for the whole simulation (one lease per
            endpoint and requested model; ``simulation.limits``); default ``LocalPermits``: the backend's
            ``max_connections``, in this process alone. The synthetic backend always runs locally.

    Raises:
        Exception: the first exception of any call (a bug in a backend propagates unchanged, with notes naming
            the backend and the failed turn; ``BudgetExhaustedError``, ``FailureThresholdError``); every other
            call is cancelled first, and every finished turn is written.
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
    # Stored turns past a run's usable prefix (a turn with a failed call, and what followed it) are played again.
    stats.utterances_superseded = store.retire_turns_after(
        {run.run_id: len(histories.get(run.run_id, [])) for run in pending})
    logger.info("simulating %d of %d runs (%d complete, %d resumed, %d stored utterances superseded to retry "
                "failed calls)", len(pending), len(runs), stats.runs_skipped_complete, len(stats.turns_resumed_from),
                stats.utterances_superseded)
    limit = asyncio.Semaphore(max_concurrent_runs)
    limiters, endpoint_limits = _endpoint_limiters(models, backends)
    gates = {name: CallGate(backend, models[name], limiters[name], cache, stats.spending)
             for name, backend in backends.items()}
    remaining = sum(run.n_turns - len(histories.get(run.run_id, [])) for run in pending)
    reporter = (ProgressReporter(remaining, emit=progress, languages=sorted({r.language for r in runs}),
                                 planned_turns=sum(r.n_turns for r in runs)) if progress is not None else None)

    async def guarded(run: RunSpec) -> None:
        async with limit:
            await simulate_run(run, agents[run.run_id], models[run.model], gates[run.model], store,
                               histories.get(run.run_id, []), stats, clock, reporter)

    try:
        async with AsyncExitStack() as leases:
            for key, (endpoint_limit, limiter, is_local) in endpoint_limits.items():
                source = LocalPermits() if is_local or permits is None else permits
                await leases.enter_async_context(source.lease(key, endpoint_limit, limiter))
            await gather_or_cancel([guarded(run) for run in pending])
    except FailureThresholdError as stop:
        raise stats.spending.final_stop(stop) from None
    finally:
        if cache is not None:
            cache.flush()  # paid completions first: a turn stored below may replay from them
        store.flush()  # whatever finished is kept, even when a run fails or the study is interrupted
        for backend in backends.values():
            await backend.aclose()
        for line in pop_retry_summary(sorted({backend.connection_key() for backend in backends.values()})):
            logger.warning(line)
        if reporter is not None:
            reporter.finish(stats)
    return stats
