"""Before anything runs: how many runs and calls a study makes, and roughly what it costs.

Input tokens are estimated from the real prompts (system prompt and event text of each agent and turn) plus a
history of assumed length; tokens are approximated as UTF-8 bytes / 4, which tracks real tokenizers within
a factor of about 1.5 across scripts. Output tokens assume ``ASSUMED_REPLY_TOKENS`` per call (capped by the
model's ``max_tokens``). The figures are planning numbers, not invoices.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.study import Study
from simulation.content import load_language
from simulation.design import assign_agents
from simulation.prompts import system_prompt
from simulation.stages import build_design

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


def estimate_study(study: Study) -> list[ModelEstimate]:
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
                prompt_bytes = len((system + event).encode("utf-8")) + history
                estimate.calls += calls
                estimate.tokens_in += calls * prompt_bytes // BYTES_PER_TOKEN
                estimate.tokens_out += calls * reply_tokens
    for name, estimate in estimates.items():
        model = models[name]
        estimate.cost_usd = (estimate.tokens_in * model.price_per_1k_input_usd
                             + estimate.tokens_out * model.price_per_1k_output_usd) / 1000
    return list(estimates.values())
