"""``backfire estimate STUDY``: runs, calls, tokens and cost before anything runs."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from cli._common import add_check_endpoints_argument, add_db_argument, add_endpoint_arguments, comma_list, positive_int

if TYPE_CHECKING:
    from pathlib import Path

    from core.study import Study


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("estimate", help="print runs, calls, expected tokens and cost of a study (what "
                                             "`backfire run` with the same options would still pay)")
    parser.add_argument("study", help="path of a study YAML")
    parser.add_argument("--backend", help="as `backfire run --backend` (synthetic costs $0)")
    parser.add_argument("--model", help="as `backfire run --model`")
    add_endpoint_arguments(parser)
    parser.add_argument("--languages", type=comma_list)
    parser.add_argument("--replicates", type=positive_int)
    parser.add_argument("--keep-failed-turns", action="store_true",
                        help="as `backfire run --keep-failed-turns`: count stored failed turns as not replayed")
    add_check_endpoints_argument(parser)
    add_db_argument(parser)
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    from analysis.tables import render_table
    from core.study import load_study, parse_overrides
    from simulation.estimate import ASSUMED_REPLY_TOKENS, estimate_study, stored_prefixes
    from simulation.stages import check_endpoints, load_study_content, preflight_endpoints
    from warehouse.connection import resolve_db_path

    overrides = parse_overrides({"languages": args.languages, "replicates": args.replicates,
                                 "backend": args.backend, "model": args.model, "base_url": args.base_url,
                                 "api_key_env": args.api_key_env}, source=args.study)
    study = overrides.apply(load_study(args.study), source=args.study)
    load_study_content(study, args.study)
    check_endpoints(study, args.study)
    if args.check_endpoints:
        preflight_endpoints(study, args.study)
    db = resolve_db_path(args.db)
    stored: dict[str, int] = {}
    if db.is_file():
        from warehouse.connection import connect, table_exists

        with connect(db, read_only=True) as con:
            if table_exists(con, "raw", "utterances"):
                stored = stored_prefixes(con, study, retry_errors=not args.keep_failed_turns)
        stored.update(_stored_in_shards(db, study, retry_errors=not args.keep_failed_turns))
    estimates = estimate_study(study, stored)
    rows = [(e.model, e.backend, e.runs, e.calls, e.tokens_in, e.tokens_out, round(e.cost_usd, 2))
            for e in estimates]
    print(render_table(("model", "backend", "runs", "calls", "tokens_in", "tokens_out", "cost_usd"), rows))
    synthetic = [e.model for e in estimates if e.backend == "synthetic"]
    print(f"\ntotal: {sum(e.calls for e in estimates)} calls, ${sum(e.cost_usd for e in estimates):.2f} "
          f"(prompts from the packs, history and replies assumed: {ASSUMED_REPLY_TOKENS} tokens per reply; "
          "prices from the study's models"
          + ("; the synthetic backend calls no endpoint, so it costs $0" if synthetic else "") + ")")
    reused_turns = sum(e.stored_agent_turns for e in estimates)
    if reused_turns:
        print(f"already stored in {db}: {reused_turns} agent turns of these very runs "
              f"({sum(e.stored_calls for e in estimates)} calls), left out above: a rerun resumes after them "
              "(failed turns and other backends' or models' runs are not counted)")
    return 0


def _stored_in_shards(db: Path, study: Study, *, retry_errors: bool) -> dict[str, int]:
    """Stored turns the language shards hold and main may not yet (they are gathered when the marts build): a
    shard is the authority for its runs."""
    from simulation.estimate import stored_prefixes
    from warehouse.shards import read_freshest

    stored: dict[str, int] = {}
    for language in study.design.languages:
        with read_freshest(db, study.name, language) as con:
            if con is not None:
                stored.update(stored_prefixes(con, study, retry_errors=retry_errors))
    return stored
