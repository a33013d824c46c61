"""One Dagster run of a language partition's writer steps in its own process, on the DAGSTER_HOME instance, with
the executor BACKFIRE_EXECUTOR names: ``python -m tests.test_helpers.partition_runs CONFIG.json PARTITION``.
Separate processes launched together are how a deployment runs language partitions side by side.
"""

from __future__ import annotations

import json
import sys


def language_writers_job():
    """The language job's two writer steps, simulate and score, without its contract checks: each step of a
    multiprocess run is a subprocess (~5 s of imports), and the checks' pool is asserted in test_partitions."""
    from orchestration.assets.scoring import SCORES
    from orchestration.assets.simulation import UTTERANCES
    from orchestration.definitions import definitions_for
    from orchestration.jobs import LANGUAGE_JOB

    job = definitions_for().resolve_job_def(LANGUAGE_JOB)
    return job.get_subset(asset_selection={UTTERANCES, SCORES}, asset_check_selection=set())


def main(config_path: str, partition: str) -> int:
    import dagster as dg

    with open(config_path, encoding="utf-8") as handle:
        run_config = json.load(handle)
    with dg.DagsterInstance.get() as instance:
        result = dg.execute_job(dg.reconstructable(language_writers_job), instance, run_config=run_config,
                                tags={"dagster/partition": partition}, raise_on_error=False)
        errors = [e.message for e in result.all_events if e.is_failure]
        times = {(entry.step_key, entry.dagster_event.event_type_value): entry.timestamp
                 for entry in instance.all_logs(result.run_id)
                 if entry.dagster_event is not None and entry.step_key == "raw__utterances"}
        span = [times.get(("raw__utterances", "STEP_START")), times.get(("raw__utterances", "STEP_SUCCESS"))]
    print(json.dumps({"success": result.success, "run_id": result.run_id, "errors": errors, "simulation_span": span}))
    return 0 if result.success else 1


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
