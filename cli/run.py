"""``backfire run STUDY``: materialize the whole pipeline for a study through the Dagster definitions."""

from __future__ import annotations

import argparse
import logging
import sys
from typing import TYPE_CHECKING, Any

from cli._common import add_db_argument, add_endpoint_arguments, add_instance_argument, comma_list, positive_int, share

if TYPE_CHECKING:
    from core.study import RunOverrides


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("run", help="run a study end to end (design -> simulation -> scoring -> marts)")
    parser.add_argument("study", help="path of a study YAML")
    parser.add_argument("--backend", help="use this backend for every model (e.g. synthetic)")
    parser.add_argument("--languages", type=comma_list, help="override the study's languages, e.g. en,ja")
    parser.add_argument("--replicates", type=positive_int, help="override replicates per cell")
    parser.add_argument("--model", help="run this one model instead of the study's list (backend openai unless "
                                        "--backend says otherwise)")
    add_endpoint_arguments(parser)
    parser.add_argument("--concurrency", type=positive_int, help="calls in flight per model endpoint")
    parser.add_argument("--no-cache", action="store_true", help="call the endpoint even when raw.llm_calls has "
                                                               "the answer (answers are still cached)")
    parser.add_argument("--keep-failed-turns", action="store_true",
                        help="do not play again turns whose calls finally failed (status error); by default a "
                             "rerun retries them and the turns after them, superseding the stored ones")
    parser.add_argument("--min-language-fidelity", type=share, metavar="SHARE",
                        help="override the study's quality.min_language_fidelity (default 0.8): the scores "
                             "contract fails when a language's replies detected in its language are under it")
    parser.add_argument("--parallel", type=positive_int, metavar="N",
                        help="languages played at once, each a Dagster run in its own process writing its own "
                             "shard (default: up to 4; 1 for a study with a budget or with BACKFIRE_LAYOUT=single)")
    parser.add_argument("--no-preflight", action="store_true",
                        help="skip the endpoint check made before any call (GET /models on each OpenAI-compatible "
                             "endpoint)")
    add_db_argument(parser)
    add_instance_argument(parser)
    parser.set_defaults(handler=handle)


def run_and_report(study_path: str, *, db: str | None, overrides: RunOverrides | None = None,
                   verbose: bool = False, ephemeral: bool = False, preflight: bool = True,
                   parallel: int | None = None) -> int:
    """Validate first (nothing is written or spent on bad input), then launch, then print the table."""
    import time

    from analysis.tables import backfire_table
    from core.study import RunOverrides, load_study
    from orchestration.launch import materialize_study, raise_for_failure
    from simulation.progress import command_progress
    from simulation.stages import build_design, check_endpoints, load_study_content, preflight_endpoints
    from warehouse.connection import connect, require_duckdb_file

    require_duckdb_file(db)  # a wrong --db fails here, not inside the first Dagster step
    overrides = overrides or RunOverrides()
    study = overrides.apply(load_study(study_path), source=study_path)
    load_study_content(study, study_path)
    check_endpoints(study, study_path)
    if preflight:
        preflight_endpoints(study, study_path)
    _show_progress()
    started = time.perf_counter()
    runs, _ = build_design(study)
    with command_progress(study.design.languages, sum(run.n_turns for run in runs)):
        result = materialize_study(study_path, db=db, overrides=overrides, ephemeral=ephemeral,
                                   log_level="INFO" if verbose else "CRITICAL", parallel=parallel)
    raise_for_failure(result)
    with connect(result.db_path, read_only=True) as con:
        print(backfire_table(con, study.name))
    for warning in result.warnings:
        print(f"\nwarning: {warning}")
    print(f"\nstudy {study.name}: done in {time.perf_counter() - started:.1f} s (Dagster run {result.run_id})")
    print(f"warehouse: {result.db_path}")
    for metadata in result.materializations.get("backfire_report", [])[-1:]:
        print(f"report: {metadata['report']} (HTML), {metadata['path']} (markdown)")
    print(f"log: {result.log_path}")
    return 0


class _CurrentStderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is when a line is emitted: the handler outlives one command in a
    process that runs several (tests, notebooks), and a stream captured by an earlier one may be closed."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        pass


def _show_progress() -> None:
    """Print the simulation's progress lines on stderr, also when Dagster's own log is silenced."""
    logger = logging.getLogger("simulation.progress")
    if not any(isinstance(h, _CurrentStderrHandler) for h in logger.handlers):
        handler = _CurrentStderrHandler()
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False


def handle(args: argparse.Namespace) -> int:
    from core.study import parse_overrides

    overrides = parse_overrides({
        "languages": args.languages, "replicates": args.replicates, "backend": args.backend, "model": args.model,
        "base_url": args.base_url, "api_key_env": args.api_key_env, "concurrency": args.concurrency,
        "no_cache": args.no_cache, "keep_failed_turns": args.keep_failed_turns,
        "min_language_fidelity": args.min_language_fidelity}, source=args.study)
    return run_and_report(args.study, db=args.db, overrides=overrides, verbose=args.verbose,
                          ephemeral=args.ephemeral, preflight=not args.no_preflight, parallel=args.parallel)
