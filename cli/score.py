"""``backfire score``: run scorers over an existing warehouse (no transcript is regenerated) as Dagster runs
of ``rescore_job``, one per language, gated by the scores contract, then rebuild the marts."""

from __future__ import annotations

import argparse

from cli._common import add_db_argument, add_instance_argument, comma_list


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "score", help="score stored utterances with model-based scorers (metric v2) and rebuild the marts",
        description="Each --scorer is NAME[:MODEL][?key=value&...]: lexicon-v1.1 (metric v1.1); langid; "
                    "classifier:MODEL; zero-shot:MODEL; "
                    "embedding:MODEL; judge:MODEL?base_url=URL&api_key_env=NAME. Options: languages=en,ja (what "
                    "the model covers; others abstain), labels=LABEL:pathology,... (classifier), batch_size=N, "
                    "device=auto|cpu|cuda, precision=auto|fp32|fp16|bf16, revision=REV. Only utterances that "
                    "scorer version has not scored are scored. Each language is a Dagster run of rescore_job "
                    "(the scores contract is its gate), then refresh_marts_job rebuilds the marts.")
    parser.add_argument("--scorer", action="append", required=True, metavar="NAME[:MODEL]",
                        help="a scorer to run (repeatable)")
    parser.add_argument("--languages", type=comma_list, help="score only runs in these languages")
    parser.add_argument("--no-marts", action="store_true", help="do not rebuild the dbt marts afterwards")
    add_db_argument(parser)
    add_instance_argument(parser)
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    from analysis.tables import render_table
    from orchestration.assets.scoring import cached_scorer
    from orchestration.launch import raise_for_failure, rescore, scorer_stats
    from scoring.spec import parse_scorer
    from warehouse.connection import connect, resolve_db_path

    for text in args.scorer:  # every spec is checked before any model loads
        parse_scorer(text)
    for text in args.scorer:  # every model loads (once: the runs reuse it) before Dagster starts
        cached_scorer(text)
    db_path = resolve_db_path(args.db)
    connect(db_path, read_only=True).close()  # a missing warehouse is a clear error, not an empty one
    result = rescore(args.scorer, db=db_path, languages=args.languages, rebuild_marts=not args.no_marts,
                     log_level="INFO" if args.verbose else "CRITICAL", ephemeral=args.ephemeral)
    raise_for_failure(result)
    rows = [(s["scorer"], s["version"], s["device"], s["scored"], s["abstained"], s["rows"],
             f"{(s['scored'] + s['abstained']) / s['seconds']:,.0f}" if s["seconds"] > 0 else "-")
            for s in scorer_stats(result)]
    print(render_table(("scorer", "version", "device", "scored", "abstained", "rows", "utt/s"), rows))
    if not args.no_marts:
        _print_marts(db_path, {parse_scorer(text).name for text in args.scorer}, args.languages)
    print(f"Dagster runs: {', '.join(result.run_ids)}")
    print(f"warehouse: {db_path}")
    return 0


LANGID = "langid"
STANCE_LEXICON = "lexicon-v1.1"


def _print_marts(db_path: object, scorers: set[str], languages: list[str] | None) -> None:
    """Say what the rebuilt marts now hold for the scorers that ran: langid fills
    ``run_metrics.language_fidelity`` (printed per language), the others the metric-v2 tables; naming a table
    no scorer of the command fills would send the reader to an empty one."""
    from analysis.tables import render_table
    from warehouse.connection import connect

    if LANGID in scorers:
        where = f"where language in ({', '.join('?' * len(languages))})" if languages else ""
        with connect(db_path, read_only=True) as con:
            rows = con.execute(
                "select language, count(*), count(language_fidelity), round(avg(language_fidelity), 3), "
                f"round(min(language_fidelity), 3) from marts.run_metrics {where} group by 1 order by 1",
                languages or []).fetchall()
        print("\nlanguage fidelity (marts.run_metrics.language_fidelity: share of replies detected in the run's "
              "language)")
        print(render_table(("language", "runs", "scored runs", "mean", "min"),
                           [tuple("-" if v is None else v for v in row) for row in rows]))
    if STANCE_LEXICON in scorers:
        print(f"\nmarts rebuilt: {STANCE_LEXICON} counts feed the v1 columns of the studies whose analysis.metric_spec "
              "is v1.1 (metric_spec = 'v1.1' in marts.run_metrics and the effect tables); other studies keep v1")
    others = sorted(scorers - {LANGID, STANCE_LEXICON})
    if others:
        print(f"\nmarts rebuilt: metric v2 columns of {', '.join(others)} in marts.run_metrics / agent_metrics, "
              "marts.backfire_by_language_v2, marts.dissociation_by_language_v2, marts.scorer_coverage")
    elif LANGID in scorers:
        print("\nmarts rebuilt: marts.run_metrics.language_fidelity, marts.scorer_coverage")
