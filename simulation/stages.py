"""Stage functions over the warehouse: record content, record the design, simulate what is missing.

Each is what one Dagster asset calls; none knows about Dagster, so each runs alone in a unit test.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.errors import LanguagePackError, StudyConfigError, combine
from core.ids import stable_hash
from core.study import ModelSpec, Study
from simulation.backends.registry import (
    backend_fingerprint,
    backend_for_model,
    backend_options,
    requested_model_id,
)
from simulation.budget import Spending
from simulation.content import LanguageContent, load_language, missing_languages
from simulation.design import AgentSpec, RunSpec, assign_agents, expand_design
from simulation.engine import SimulationStats, simulate
from simulation.limits import PermitSource, permit_source_from_env
from warehouse import transaction
from warehouse.llm_cache import DuckDBResponseCache
from warehouse.raw_io import insert_ignore, upsert, utc_now
from warehouse.schema import ensure_raw_schema
from warehouse.transcripts import DuckDBTranscriptStore

if TYPE_CHECKING:
    import duckdb


def load_study_content(study: Study, source: str = "study") -> dict[str, LanguageContent]:
    """Every pack the study needs, validated, and every model's backend known and its options valid (checked
    against the options model the backend registered): all before anything is written or spent."""
    for i, model in enumerate(study.models):
        backend_options(model, field=f"models[{i}]", file=source)
    missing = missing_languages(study.design.languages)
    if missing:
        raise LanguagePackError(f"no language pack for {', '.join(missing)}", file=source,
                                field="design.languages",
                                fix="remove those languages or add their packs under simulation/languages/ "
                                    "(docs/add-a-language.md)")
    contents = {lang: load_language(lang) for lang in study.design.languages}
    for lang, content in contents.items():
        missing_wordings = [w for w in study.design.wordings
                            if w != "base" and w not in content.pack.alignment_prefix_variants]
        if missing_wordings:
            raise LanguagePackError(
                f"{lang} has no alignment-prefix wording {', '.join(missing_wordings)}", file=source,
                field="design.wordings",
                fix=f"use base or a paraphrase id the {lang} pack has "
                    f"({', '.join(sorted(content.pack.alignment_prefix_variants)) or 'it has none'}; "
                    f"alignment_prefix_variants in {content.path}/pack.yaml)")
    for model in study.models:
        for lang in study.design.languages:
            backend_fingerprint(model, lang)  # a typo in the planted effects fails here, not in every call
    for lang, content in contents.items():
        if len(content.pack.personas) < study.design.n_agents:
            raise StudyConfigError(f"n_agents is {study.design.n_agents} but the {lang} pack has "
                                   f"{len(content.pack.personas)} personas", file=source, field="design.n_agents",
                                   fix="lower n_agents or add personas to the pack")
    return contents


def check_endpoints(study: Study, source: str = "study") -> None:
    """Build every model's backend once, so a missing key or extra fails before anything is written (every
    model's problem reported at once)."""
    errors: list[StudyConfigError] = []
    for i, model in enumerate(study.models):
        try:
            backend_for_model(model)
        except StudyConfigError as exc:
            for problem in exc.problems:  # every bad option of the entry, each under its own field
                field = (problem.field or "").replace("models[]", f"models[{i}]") or f"models[{i}]"
                errors.append(StudyConfigError(problem.problem, file=source, field=field, fix=problem.fix))
    if errors:
        raise combine(errors)


def preflight_endpoints(study: Study, source: str = "study", timeout_s: float | None = None) -> None:
    """Probe each distinct OpenAI-compatible endpoint of the study once (``backends.preflight``), so a dead
    server, a bad key or an unknown model stops the command before any call of the study is made; every
    endpoint's problem is reported at once. The synthetic and local backends have nothing to probe."""
    from simulation.backends.preflight import PROBE_TIMEOUT_S, Endpoint, probe

    grouped: dict[tuple[str, str | None, tuple[tuple[str, str], ...]], list[tuple[int, str]]] = defaultdict(list)
    for i, model in enumerate(study.models):
        if model.backend != "openai":
            continue
        options = backend_options(model, field=f"models[{i}]", file=source)
        key = (getattr(options, "base_url", None) or "https://api.openai.com/v1", getattr(options, "api_key_env", None),
               tuple(sorted(dict(getattr(options, "extra_headers", {})).items())))
        grouped[key].append((i, requested_model_id(model)))
    errors = []
    for (base_url, key_env, headers), models in grouped.items():
        endpoint = Endpoint(base_url, key_env, headers, tuple(dict.fromkeys(m for _, m in models)))
        problem = probe(endpoint, PROBE_TIMEOUT_S if timeout_s is None else timeout_s)
        if problem is not None:
            errors.append(StudyConfigError(
                f"endpoint check failed: {problem}", file=source, field=f"models[{models[0][0]}].base_url",
                fix="start the server or correct base_url, api_key_env and the model name (backfire validate "
                    "--check-endpoints checks again; run --no-preflight skips this check)"))
    if errors:
        raise combine(errors)


def content_rows(contents: dict[str, LanguageContent]) -> list[dict[str, Any]]:
    rows = []
    for lang, c in sorted(contents.items()):
        lex = c.lexicon
        rows.append(dict(
            language=lang, content_hash=c.content_hash, pack_version=c.pack.version, lexicon_version=lex.version,
            script=c.pack.script, segmentation=c.pack.segmentation, provenance_method=c.pack.provenance.method,
            provenance_author=c.pack.provenance.author, provenance_source=c.pack.provenance.source,
            back_translation_checked=c.pack.provenance.back_translation_checked,
            reviewed_by=c.pack.provenance.reviewed_by, n_personas=len(c.pack.personas),
            n_events=len(c.pack.scenario.events),
            n_lexicon_entries=sum(len(v) for v in (*lex.pathology.values(), *lex.protective.values()))))
    return rows


def record_content(con: duckdb.DuckDBPyConnection, study: Study) -> list[dict[str, Any]]:
    """Validate and record the packs the study uses (``raw.content_packs``)."""
    ensure_raw_schema(con)
    rows = content_rows(load_study_content(study))
    insert_ignore(con, "raw.content_packs", rows)
    return rows


@dataclass(frozen=True)
class DesignResult:
    runs: list[RunSpec]
    agents: list[AgentSpec]
    runs_inserted: int
    agents_inserted: int


def build_design(study: Study) -> tuple[list[RunSpec], list[AgentSpec]]:
    contents = load_study_content(study)
    runs = expand_design(study, {lang: c.content_hash for lang, c in contents.items()})
    agents = [a for r in runs for a in assign_agents(r, [p.id for p in contents[r.language].pack.personas])]
    return runs, agents


def record_design(con: duckdb.DuckDBPyConnection, study: Study) -> DesignResult:
    """Write the study config, its runs and agents; rows that exist are kept (ids are hashes of inputs)."""
    ensure_raw_schema(con)
    runs, agents = build_design(study)
    now = utc_now()
    config_json = study.model_dump_json()
    with transaction(con):
        upsert(con, "raw.studies", [dict(study=study.name, config_json=config_json,
                                         config_hash=stable_hash(config_json),
                                         replication_target=study.replication_target,
                                         zscore_reference=study.zscore_reference, updated_at=now,
                                         exclude_statuses=list(study.analysis.exclude_statuses),
                                         max_exclusion_difference=study.analysis.max_exclusion_difference,
                                         p_adjust=study.analysis.p_adjust, alpha=study.analysis.alpha,
                                         metric_spec=study.analysis.metric_spec,
                                         max_truncated_share=study.quality.max_truncated_share,
                                         min_language_fidelity=study.quality.min_language_fidelity)])
        settings = {m.stored_name: decoding_settings(m) for m in study.models}
        n_runs = insert_ignore(con, "raw.runs", [dict(r.model_dump(), created_at=now, **_planted(r),
                                                      **settings[r.model]) for r in runs])
        n_agents = insert_ignore(con, "raw.agents", [a.model_dump() for a in agents])
        _fill_planted(con, runs)
        _fill_decoding(con, runs, settings)
    return DesignResult(runs, agents, n_runs, n_agents)


def decoding_settings(model: ModelSpec) -> dict[str, Any]:
    """What a run asks its model for, recorded in ``raw.runs``: the model id sent (a pinned snapshot, or
    ``name@revision``) and the decoding parameters (``decoding_seed``: the entry's seed, mixed into every call's
    seed; NULL when no seed is sent; ``top_p`` NULL: the endpoint's default). The synthetic backend ignores them."""
    return dict(requested_model=requested_model_id(model), temperature=model.temperature, top_p=model.top_p,
                max_tokens=model.max_tokens, decoding_seed=model.seed)


def _fill_decoding(con: duckdb.DuckDBPyConnection, runs: Sequence[RunSpec],
                   settings: dict[str, dict[str, Any]]) -> None:
    """Runs stored before the decoding settings were recorded get them: every one of them enters the run_id (the
    defaults excepted), so the study's current entry is what those runs were asked with."""
    import pandas as pd

    recorded = pd.DataFrame([dict(run_id=r.run_id, **settings[r.model]) for r in runs])  # noqa: F841 - read below
    if len(runs):
        con.execute("""
            update raw.runs set requested_model = recorded.requested_model, temperature = recorded.temperature,
                                top_p = recorded.top_p, max_tokens = recorded.max_tokens,
                                decoding_seed = recorded.decoding_seed
            from recorded where raw.runs.run_id = recorded.run_id and raw.runs.requested_model is null""")


def _planted(run: RunSpec) -> dict[str, str | None]:
    """The directions the synthetic backend planted for the run's (model, language): the truth its results
    are scored against (``marts.replication_scorecard``); NULL for real models."""
    if not run.synthetic:
        return {"planted_cpi_direction": None, "planted_di_direction": None}
    from simulation.backends.synthetic import resolve_profile

    profile = resolve_profile(run.model, run.language)
    return {"planted_cpi_direction": profile.planted_direction, "planted_di_direction": profile.planted_di_direction}


def _fill_planted(con: duckdb.DuckDBPyConnection, runs: Sequence[RunSpec]) -> None:
    """Runs stored before planted directions were recorded get them (a run_id fixes its planted effects)."""
    import pandas as pd

    planted = pd.DataFrame([dict(run_id=r.run_id, **_planted(r)) for r in runs if r.synthetic])
    if len(planted):
        con.execute("""
            update raw.runs set planted_cpi_direction = planted.planted_cpi_direction,
                                planted_di_direction = planted.planted_di_direction
            from planted where raw.runs.run_id = planted.run_id and raw.runs.planted_cpi_direction is null""")


def _stored_runs(con: duckdb.DuckDBPyConnection, run_ids: Sequence[str]) -> tuple[list[RunSpec], dict[str, list]]:
    # Only the design's own fields: what the design stage records beside them (planted directions, decoding
    # settings, created_at) is not part of a RunSpec.
    frame = con.execute(f"select {', '.join(RunSpec.model_fields)} from raw.runs where run_id in (select unnest(?))",
                        [list(run_ids)]).df()
    frame["evaluation_date"] = frame["evaluation_date"].map(lambda d: None if d is None or d != d else str(d)[:10])
    frame["probe_turns"] = frame["probe_turns"].map(lambda turns: [int(t) for t in turns])
    runs = [RunSpec(**rec) for rec in frame.to_dict(orient="records")]
    agents: dict[str, list[AgentSpec]] = defaultdict(list)
    for rec in con.execute("select * from raw.agents where run_id in (select unnest(?)) order by run_id, agent_idx",
                           [list(run_ids)]).df().to_dict(orient="records"):
        agents[rec["run_id"]].append(AgentSpec(**rec))
    return runs, agents


def simulate_study(con: duckdb.DuckDBPyConnection, study: Study, *, max_concurrent_runs: int = 32,
                   use_cache: bool = True, retry_errors: bool = True,
                   progress: Callable[[str], Any] | None = None, cache_fallback: Path | None = None,
                   permits: PermitSource | None = None) -> SimulationStats:
    """Bring every run of the study's current design to completion (resuming partial runs; with
    ``retry_errors``, turns whose calls finally failed are played again). ``cache_fallback``: another warehouse
    file whose ``raw.llm_calls`` also answers (main, when ``con`` is a language shard). ``permits`` shares each
    endpoint's limit with other processes (default: ``permit_source_from_env``, i.e. ``BACKFIRE_PERMITS_URL``)."""
    ensure_raw_schema(con)
    runs, _ = build_design(study)
    stored, agents = _stored_runs(con, [r.run_id for r in runs])
    if len(stored) != len(runs):
        raise StudyConfigError(f"{len(runs) - len(stored)} runs of study '{study.name}' are not in raw.runs",
                               fix="materialize the design stage first")
    models: dict[str, ModelSpec] = {m.stored_name: m for m in study.models}  # keyed like raw.runs.model
    backends = {name: backend_for_model(models[name]) for name in sorted({r.model for r in stored})}
    store = DuckDBTranscriptStore(con, retry_errors=retry_errors)
    cache = DuckDBResponseCache(con, read=use_cache, fallback=cache_fallback)
    spending = Spending(study.budget)
    try:
        return asyncio.run(simulate(stored, agents, models, backends, store, clock=utc_now,
                                    max_concurrent_runs=max_concurrent_runs, cache=cache, spending=spending,
                                    progress=progress,
                                    permits=permits if permits is not None else permit_source_from_env()))
    finally:
        cache.close()
