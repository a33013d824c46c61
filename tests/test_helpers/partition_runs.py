"""One Dagster run of a pipeline stage in its own process, on the DAGSTER_HOME instance, with the executor
BACKFIRE_EXECUTOR names: ``python -m tests.test_helpers.partition_runs JOB CONFIG.json [PARTITION]``.

Separate processes launched together are how a deployment runs language partitions side by side.
"""

from __future__ import annotations

import json
import sys


def setup_job():
    from orchestration.definitions import definitions_for
    from orchestration.jobs import SETUP_JOB

    return definitions_for().resolve_job_def(SETUP_JOB)


def language_job():
    from orchestration.definitions import definitions_for
    from orchestration.jobs import LANGUAGE_JOB

    return definitions_for().resolve_job_def(LANGUAGE_JOB)


def main(job: str, config_path: str, partition: str | None = None) -> int:
    import dagster as dg

    target = {"setup": setup_job, "language": language_job}[job]
    with open(config_path, encoding="utf-8") as handle:
        run_config = json.load(handle)
    tags = {"dagster/partition": partition} if partition else None
    with dg.DagsterInstance.get() as instance:
        result = dg.execute_job(dg.reconstructable(target), instance, run_config=run_config, tags=tags,
                                raise_on_error=False)
        errors = [e.message for e in result.all_events if e.is_failure]
    print(json.dumps({"success": result.success, "run_id": result.run_id, "errors": errors}))
    return 0 if result.success else 1


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
