"""Simulation stage: play every missing (run, turn) of the study and store the utterances."""


from collections.abc import Callable

import dagster as dg

from orchestration.assets.design import AGENTS, RUNS
from orchestration.resources import DUCKDB_WRITER_POOL, StudyResource, WarehouseResource
from simulation.progress import PROGRESS_LOGGER
from simulation.stages import simulate_study

UTTERANCES = dg.AssetKey(["raw", "utterances"])


def _progress(context: dg.AssetExecutionContext) -> Callable[[str], None]:
    """Progress lines go to the Dagster run log and to the ``simulation.progress`` logger (the CLI shows it)."""
    def emit(line: str) -> None:
        context.log.info(line)
        PROGRESS_LOGGER.info(line)

    return emit


@dg.asset(key=UTTERANCES, group_name="simulation", pool=DUCKDB_WRITER_POOL,
          deps=[RUNS, AGENTS], kinds={"python", "duckdb"},
          description="One row per (run_id, turn, agent_idx, channel): public talk and private monologue.")
def utterances(context: dg.AssetExecutionContext, warehouse: WarehouseResource,
               study: StudyResource) -> dg.MaterializeResult:
    spec = study.load()
    with warehouse.writer() as con:
        stats = simulate_study(con, spec, use_cache=not study.no_cache, retry_errors=not study.keep_failed_turns,
                               progress=_progress(context))
    context.log.info("simulation %s: %d calls, %d turns written, %d runs already complete", spec.name,
                     stats.calls, stats.turns_written, stats.runs_skipped_complete)
    return dg.MaterializeResult(metadata={
        "study": spec.name, "runs": stats.runs_total, "runs_already_complete": stats.runs_skipped_complete,
        "runs_resumed": len(stats.turns_resumed_from), "calls": stats.calls, "turns_written": stats.turns_written,
        "errors": stats.errors, "parse_errors": stats.parse_errors, "tokens_in": stats.tokens_in,
        "tokens_out": stats.tokens_out, "cost_usd": round(stats.cost_usd, 6), "cache_hits": stats.cache_hits,
        "utterances_superseded": stats.utterances_superseded,
        "synthetic": all(m.backend == "synthetic" for m in spec.models),
    })
