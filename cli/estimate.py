"""``backfire estimate STUDY``: runs, calls, tokens and cost before anything runs."""

from __future__ import annotations

import argparse

from cli._common import add_db_argument, comma_list, positive_int


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("estimate", help="print runs, calls, expected tokens and cost of a study")
    parser.add_argument("study", help="path of a study YAML")
    parser.add_argument("--backend")
    parser.add_argument("--languages", type=comma_list)
    parser.add_argument("--replicates", type=positive_int)
    add_db_argument(parser)
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    from analysis.tables import render_table
    from core.study import load_study, parse_overrides
    from simulation.estimate import ASSUMED_REPLY_TOKENS, estimate_study
    from simulation.stages import load_study_content
    from warehouse.connection import resolve_db_path

    overrides = parse_overrides({"languages": args.languages, "replicates": args.replicates,
                                 "backend": args.backend})
    study = overrides.apply(load_study(args.study), source=args.study)
    load_study_content(study, args.study)
    estimates = estimate_study(study)
    rows = [(e.model, e.backend, e.runs, e.calls, e.tokens_in, e.tokens_out, round(e.cost_usd, 2)) for e in estimates]
    print(render_table(("model", "backend", "runs", "calls", "tokens_in", "tokens_out", "cost_usd"), rows))
    print(f"\ntotal: {sum(e.calls for e in estimates)} calls, ${sum(e.cost_usd for e in estimates):.2f} "
          f"(prompts from the packs, history and replies assumed: {ASSUMED_REPLY_TOKENS} tokens per reply; "
          "prices from the study's models)")
    db = resolve_db_path(args.db)
    if db.is_file():
        from warehouse.connection import connect, table_exists

        with connect(db, read_only=True) as con:
            if table_exists(con, "raw", "utterances"):
                query = ("select count(*) from raw.utterances u join raw.runs r using (run_id) "
                         "where r.study = ? and u.channel = 'talk'")
                stored = con.execute(query, [study.name]).fetchone()[0]  # type: ignore[index]
                print(f"already stored in {db}: {stored} agent turns of study '{study.name}' (not paid again)")
    return 0
