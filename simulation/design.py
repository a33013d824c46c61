"""Grid expansion: a study becomes runs and agents with deterministic ids and seeded assignments."""

from __future__ import annotations

import itertools
import random
from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict

from core.ids import derive_seed, stable_hash
from core.study import Study
from simulation.backends.registry import backend_fingerprint, requested_model_id


class RunSpec(BaseModel):
    """One simulated group conversation; a row of ``raw.runs``."""

    model_config = ConfigDict(frozen=True)

    run_id: str
    study: str
    language: str
    model: str
    backend: str
    aligned_share: float
    k_aligned: int
    n_agents: int
    n_turns: int
    individuation: bool
    n_individuated: int
    replicate: int
    seed: int
    scenario: str
    content_hash: str
    history_window: int
    probe_turns: list[int]
    evaluation_date: str | None
    synthetic: bool
    wording: str = "base"
    """The alignment prefix's wording (``base``, or a paraphrase id of the pack's ``alignment_prefix_variants``)."""


class AgentSpec(BaseModel):
    """One agent of one run; a row of ``raw.agents``."""

    model_config = ConfigDict(frozen=True)

    run_id: str
    agent_idx: int
    persona_id: str
    aligned: bool
    individuated: bool


def assign_agents(run: RunSpec, persona_ids: list[str]) -> list[AgentSpec]:
    """Seeded draw of personas, of the k aligned agents and of the individuated ones.

    The draw uses the run seed, which excludes the model, so every model meets the same group.
    """
    rng = random.Random(run.seed)
    personas = rng.sample(persona_ids, run.n_agents)
    aligned = set(rng.sample(range(run.n_agents), run.k_aligned))
    individuated = set(rng.sample(range(run.n_agents), run.n_individuated)) if run.individuation else set()
    return [AgentSpec(run_id=run.run_id, agent_idx=i, persona_id=personas[i], aligned=i in aligned,
                      individuated=i in individuated) for i in range(run.n_agents)]


def expand_design(study: Study, content_hashes: Mapping[str, str]) -> list[RunSpec]:
    """Every run of the study's grid, in a stable order.

    The ``model`` column is ``ModelSpec.stored_name`` (``synthetic:<name>`` for the synthetic backend), the one
    place the prefix is applied; it enters the run_id like every other field.

    The run_id hashes every input that can change a transcript: the cell, the seed, the packs' content
    hash, the model's generation settings (temperature, max_tokens, the ``base_url`` option of endpoint backends,
    seed, top_p, a ``structured_output`` other than auto, and the requested model id when a snapshot or revision
    pins it) and the fingerprint its backend registered (``register_backend(..., fingerprint=)``).

    Args:
        study: the validated study.
        content_hashes: content hash of each language's pack, so changed text makes new runs.
    """
    d = study.design
    evaluation_date = study.evaluation_date.isoformat() if study.evaluation_date else None
    runs = []
    for language, model, share, individuation, wording, replicate in itertools.product(
            d.languages, study.models, d.aligned_shares, d.individuation, d.wordings, range(d.replicates)):
        seed = derive_seed(study.seed, study.name, language, share, individuation, replicate, evaluation_date,
                           *([wording] if wording != "base" else []))
        fields = dict(
            study=study.name, language=language, model=model.stored_name, backend=model.backend,
            aligned_share=share, k_aligned=round(share * d.n_agents), n_agents=d.n_agents, n_turns=d.n_turns,
            individuation=individuation, n_individuated=d.individuated_agents if individuation else 0,
            replicate=replicate, seed=seed, scenario=study.scenario, content_hash=content_hashes[language],
            history_window=d.history_window, probe_turns=sorted(d.probe_turns), evaluation_date=evaluation_date,
            synthetic=model.backend == "synthetic",
        )
        generation = model.model_dump(include={"temperature", "max_tokens"})
        generation["base_url"] = model.options().get("base_url")  # the endpoint, for backends that have one
        if model.seed != 0:  # the default adds nothing, so the run_ids of earlier studies stay what they were
            generation["seed"] = model.seed
        if model.top_p is not None:  # likewise: only a top_p that is sent
            generation["top_p"] = model.top_p
        structured_output = model.options().get("structured_output", "auto")
        if structured_output != "auto":  # likewise: auto (the default) keeps the run_ids of earlier studies
            generation["structured_output"] = structured_output
        requested = requested_model_id(model)
        if requested != model.name:  # a pinned snapshot or revision asks for another model
            generation["requested_model"] = requested
        # the base wording adds nothing, so the seeds and run_ids of studies without wording controls stay what
        # they were; another wording draws its own groups (its runs are replicates of their own, so the spread of
        # g across wordings includes sampling noise, as it would between any two studies)
        hashed = fields if wording == "base" else {**fields, "wording": wording}
        run_id = stable_hash(hashed, generation, backend_fingerprint(model, language))
        runs.append(RunSpec.model_validate({**fields, "wording": wording, "run_id": run_id}))
    return runs
