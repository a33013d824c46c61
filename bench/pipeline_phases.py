"""Where one study's pipeline spends its time: seconds per Dagster run (setup, each language, marts) and per step
over half a second, for ``--parallel 1`` (languages in turn, in this process, so every run is timed).

It says what a test that runs a pipeline pays: on two cores the fixed cost (the content contract of the setup
run, ``dbt build`` with its data and unit tests in the marts run) outweighs the language runs of a small study,
so a smaller design saves little and a pipeline run saved saves the most.

    .venv/bin/python bench/pipeline_phases.py studies/demo.yaml [--db /tmp/phases.duckdb]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

MIN_STEP_S = 0.5


def _step_seconds(instance: Any, run_id: str) -> dict[str, float]:
    """Seconds from each step's start to its end, from the run's event log."""
    marks: dict[str, list[float]] = {}
    for entry in instance.all_logs(run_id):
        event = entry.dagster_event
        if event and event.step_key and event.event_type_value in ("STEP_START", "STEP_SUCCESS", "STEP_FAILURE"):
            marks.setdefault(event.step_key, []).append(entry.timestamp)
    return {step: times[-1] - times[0] for step, times in marks.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("study", type=Path, help="a study YAML")
    parser.add_argument("--db", type=Path, default=None, help="warehouse (default: a new temporary one)")
    args = parser.parse_args()

    import orchestration.launch as launch

    timed: list[tuple[str, float, dict[str, float]]] = []
    execute = launch.execute_job

    def timed_execute(defs: Any, instance: Any, job_name: str, config: dict[str, Any], partition_key: str | None,
                      log_path: Path) -> Any:
        started = time.perf_counter()
        result = execute(defs, instance, job_name, config, partition_key, log_path)
        label = f"{job_name}[{partition_key}]" if partition_key else job_name
        timed.append((label, time.perf_counter() - started, _step_seconds(instance, result.run_id)))
        return result

    launch.execute_job = timed_execute  # the launcher's own runs, timed where they are executed
    db = args.db or Path(tempfile.mkdtemp(prefix="backfire-phases-")) / "phases.duckdb"
    started = time.perf_counter()
    result = launch.materialize_study(args.study, db=db, ephemeral=True, parallel=1)
    total = time.perf_counter() - started
    for label, seconds, steps in timed:
        print(f"{label:<40} {seconds:7.1f} s")
        for step, step_s in sorted(steps.items(), key=lambda item: -item[1]):
            if step_s >= MIN_STEP_S:
                print(f"    {step:<36} {step_s:7.1f} s")
    print(f"{'total (imports and launcher included)':<40} {total:7.1f} s; success: {result.success}")


if __name__ == "__main__":
    main()
