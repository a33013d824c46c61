"""Before anything runs: how many runs and calls a study makes, and roughly what it costs.

Input tokens are estimated from the real prompts (system prompt and event text of each agent and turn) plus a
history of assumed length; tokens are approximated as UTF-8 bytes / 4, which tracks real tokenizers within
a factor of about 1.5 across scripts. Output tokens assume ``ASSUMED_REPLY_TOKENS`` per call (capped by the
model's ``max_tokens``). The figures are planning numbers, not invoices.

Turns the warehouse already holds for the very runs this study would play (same run ids, hence same model,
backend and settings) are not played again, so they are left out of calls and cost: exactly the usable prefix
the engine resumes from (``TranscriptStore.load_history``). A synthetic-backend model costs nothing, whatever
prices the study gives it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from core.study import Study
from simulation.content import load_language
from simulation.design import assign_agents
from simulation.prompts import system_prompt
from simulation.stages import build_design

if TYPE_CHECKING:
    import duckdb

ASSUMED_REPLY_TOKENS = 150
ASSUMED_TALK_BYTES = 240
ASSUMED_MONOLOGUE_BYTES = 240
BYTES_PER_TOKEN = 4


@dataclass
class ModelEstimate:
    model: str
    backend: str
    runs: int = 0
    calls: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float = 0.0
    stored_agent_turns: int = 0
    """Agent turns already stored for these runs and not played again (left out of calls and cost)."""
    stored_calls: int = 0


def estimate_study(study: Study, stored_turns: Mapping[str, int] | None = None) -> list[ModelEstimate]:
    """Calls, tokens and cost still to pay per model.

    Args:
        study: the study as this command would play it (overrides applied).
        stored_turns: per run id, how many leading turns are stored and would be resumed from, not replayed.
    """
    stored_turns = stored_turns or {}
    runs, _ = build_design(study)
    models = {m.stored_name: m for m in study.models}  # keyed like RunSpec.model
    estimates = {m.stored_name: ModelEstimate(m.stored_name, m.backend) for m in study.models}
    for run in runs:
        pack = load_language(run.language).pack
        personas = {p.id: p for p in pack.personas}
        model = models[run.model]
        estimate = estimates[run.model]
        estimate.runs += 1
        reply_tokens = min(model.max_tokens, ASSUMED_REPLY_TOKENS)
        for agent in assign_agents(run, [p.id for p in pack.personas]):
            system = system_prompt(pack, personas[agent.persona_id], aligned=agent.aligned,
                                   individuated=agent.individuated)
            for turn in range(1, run.n_turns + 1):
                seen_turns = min(run.history_window, turn - 1)
                history = seen_turns * (run.n_agents * ASSUMED_TALK_BYTES + ASSUMED_MONOLOGUE_BYTES)
                event = pack.scenario.events[turn - 1].text
                calls = 2 if turn in run.probe_turns else 1
                if turn <= stored_turns.get(run.run_id, 0):
                    estimate.stored_agent_turns += 1
                    estimate.stored_calls += calls
                    continue
                prompt_bytes = len((system + event).encode("utf-8")) + history
                estimate.calls += calls
                estimate.tokens_in += calls * prompt_bytes // BYTES_PER_TOKEN
                estimate.tokens_out += calls * reply_tokens
    for name, estimate in estimates.items():
        model = models[name]
        if model.backend == "synthetic":  # planted replies: no endpoint is paid
            continue
        estimate.cost_usd = (estimate.tokens_in * model.price_per_1k_input_usd
                             + estimate.tokens_out * model.price_per_1k_output_usd) / 1000
    return list(estimates.values())


def stored_prefixes(con: duckdb.DuckDBPyConnection, study: Study, *, retry_errors: bool = True) -> dict[str, int]:
    """Per run of ``study``, the stored turns a rerun resumes from, judged as the engine judges them: other
    runs (another backend, model or design) never count, nor a turn with a failed call when ``retry_errors``."""
    from warehouse.transcripts import DuckDBTranscriptStore

    runs, _ = build_design(study)
    store = DuckDBTranscriptStore(con, retry_errors=retry_errors)
    history = store.load_history([r.run_id for r in runs], {r.run_id: r.n_agents for r in runs})
    return {run_id: len(turns) for run_id, turns in history.items() if turns}
