"""Simulation stage, partitioned by language: play every missing (run, turn) of the study's runs in the
partition's languages and store the utterances."""


import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import dagster as dg

from analysis.tables import render_table
from core.study import RunOverrides
from orchestration.assets.design import AGENTS, RUNS
from orchestration.metadata import viewer_links
from orchestration.partitions import partition_languages
from orchestration.resources import PARTITION_POOL, StudyResource, WarehouseResource
from simulation.budget import BudgetExhaustedError
from simulation.engine import SimulationStats
from simulation.progress import PROGRESS_LOGGER
from simulation.stages import record_design, simulate_study

if TYPE_CHECKING:
    import duckdb

    from core.study import Study

UTTERANCES = dg.AssetKey(["raw", "utterances"])


def _progress(context: dg.AssetExecutionContext) -> Callable[[str], None]:
    """Progress lines go to the Dagster run log and to the ``simulation.progress`` logger (the CLI shows it)."""
    def emit(line: str) -> None:
        context.log.info(line)
        PROGRESS_LOGGER.info(line)

    return emit


def _per_language(con: "duckdb.DuckDBPyConnection", spec: "Study", languages: list[str]) -> list[tuple[Any, ...]]:
    return con.execute("""
        select r.language, count(distinct r.run_id) as runs, count(u.utterance_id) as utterances,
               count(*) filter (u.status = 'error') as failed_calls,
               count(*) filter (u.status = 'parse_error') as unparsed,
               count(*) filter (u.status = 'truncated' and u.channel <> 'monologue') as truncated_calls,
               round(sum(u.cost_usd), 4) as cost_usd
        from raw.runs r left join raw.utterances u using (run_id)
        where r.study = ? and r.language in (select unnest(?)) and r.model in (select unnest(?))
        group by 1 order by 1""", [spec.name, languages, [m.stored_name for m in spec.models]]).fetchall()


def _permits(context: dg.AssetExecutionContext) -> Any:
    """Endpoint permits every run on this instance shares: ``BACKFIRE_PERMITS_URL`` when set (the instance's
    Postgres for several machines), else a lease table in a persistent instance's home (runs of a backfill on
    one machine), else this process alone (an ephemeral instance)."""
    from simulation.limits import PERMITS_URL_ENV, LocalPermits, SqlPermits, permit_source_from_env

    if os.environ.get(PERMITS_URL_ENV, "").strip():
        return permit_source_from_env()
    root = getattr(context.instance, "root_directory", None)
    if context.instance.is_ephemeral or not root:
        return LocalPermits()
    return SqlPermits(f"sqlite:///{Path(root) / 'endpoint_permits.sqlite'}")


def _simulate_shards(context: dg.AssetExecutionContext, warehouse: WarehouseResource, study: StudyResource,
                     spec: "Study", languages: list[str]) -> tuple[SimulationStats, list[tuple[Any, ...]]]:
    """Each language into its own shard, one after another (a run per language partition plays them at once);
    the budget is carried from one language to the next, as the CLI carries it across runs."""
    total = SimulationStats()
    per_language: list[tuple[Any, ...]] = []
    for language in languages:
        budget = {"max_cost_usd": None if spec.budget.max_cost_usd is None
                  else spec.budget.max_cost_usd - total.cost_usd,
                  "max_calls": None if spec.budget.max_calls is None else spec.budget.max_calls - total.calls}
        if any(left is not None and left <= 0 for left in budget.values()):
            raise BudgetExhaustedError(
                f"budget reached before {language}: {total.calls} calls, ${total.cost_usd:.4f} spent in this run; "
                "finished languages are saved", field="budget",
                fix="raise budget.max_cost_usd / budget.max_calls and rerun: the study resumes where it stopped")
        one = RunOverrides(languages=[language], **{k: v for k, v in budget.items() if v is not None}).apply(
            spec, source=spec.name)
        with warehouse.partition_writer(spec.name, language) as con:
            record_design(con, one)
            stats = simulate_study(con, one, use_cache=not study.no_cache, retry_errors=not study.keep_failed_turns,
                                   progress=_progress(context), cache_fallback=warehouse.cache_fallback,
                                   permits=_permits(context))
            per_language += _per_language(con, one, [language])
        _add(total, stats)
    return total, per_language


def _add(total: SimulationStats, stats: SimulationStats) -> None:
    for name, value in vars(stats).items():
        if isinstance(value, int | float) and not isinstance(value, bool):
            setattr(total, name, getattr(total, name) + value)
    total.turns_resumed_from.update(stats.turns_resumed_from)
    total.spending.calls += stats.spending.calls
    total.spending.errors += stats.spending.errors
    total.spending.cost_usd += stats.spending.cost_usd


def build_utterances_asset(partitions: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    @dg.asset(key=UTTERANCES, group_name="simulation", pool=PARTITION_POOL, partitions_def=partitions,
              deps=[RUNS, AGENTS], kinds={"python", "duckdb"},
              description="One row per (run_id, turn, agent_idx, channel): public talk and private monologue. "
                          "Partitioned by language: a partition plays the study's runs in that language.")
    def utterances(context: dg.AssetExecutionContext, warehouse: WarehouseResource,
                   study: StudyResource) -> dg.MaterializeResult:
        spec = study.load()
        languages = [lang for lang in partition_languages(context) if lang in spec.design.languages]
        common: dict[str, Any] = {"study": spec.name,
                                  "synthetic": all(m.backend == "synthetic" for m in spec.models),
                                  "languages": ", ".join(languages) or "none of the study's"}
        if not languages:
            context.log.info("simulation %s: no runs in %s", spec.name, ", ".join(partition_languages(context)))
            return dg.MaterializeResult(metadata={**common, "runs": 0, "calls": 0, "cost_usd": 0.0, "errors": 0})
        if warehouse.sharded:
            stats, per_language = _simulate_shards(context, warehouse, study, spec, languages)
        else:
            spec = RunOverrides(languages=languages).apply(spec, source=spec.name)
            with warehouse.writer() as con:
                stats = simulate_study(con, spec, use_cache=not study.no_cache,
                                       retry_errors=not study.keep_failed_turns, progress=_progress(context),
                                       permits=_permits(context))
                per_language = _per_language(con, spec, languages)
        context.log.info("simulation %s [%s]: %d calls, %d turns written, %d runs already complete", spec.name,
                         ", ".join(languages), stats.calls, stats.turns_written, stats.runs_skipped_complete)
        return dg.MaterializeResult(metadata={
            **common, **viewer_links(spec.name, languages),
            "runs": stats.runs_total, "runs_already_complete": stats.runs_skipped_complete,
            "runs_resumed": len(stats.turns_resumed_from), "calls": stats.calls,
            "turns_written": stats.turns_written, "errors": stats.errors, "parse_errors": stats.parse_errors,
            "reasks": stats.reasks, "truncated": stats.truncated,
            "tokens_in": stats.tokens_in, "tokens_out": stats.tokens_out, "cost_usd": round(stats.cost_usd, 6),
            "cache_hits": stats.cache_hits, "utterances_superseded": stats.utterances_superseded,
            "rows": sum(row[2] for row in per_language),
            "by_language": dg.MetadataValue.md(render_table(
                ["language", "runs", "utterances", "failed calls", "unparsed", "truncated calls",
                 "cost (USD, all time)"], per_language,
                markdown=True)),
        })

    return utterances
