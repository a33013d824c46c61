"""``backfire score``: run model-based scorers over an existing warehouse (no transcript is regenerated),
then rebuild the marts so metric v2 appears beside v1."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from cli._common import add_db_argument, comma_list


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "score", help="score stored utterances with model-based scorers (metric v2) and rebuild the marts",
        description="Each --scorer is NAME[:MODEL][?key=value&...]: langid; classifier:MODEL; zero-shot:MODEL; "
                    "embedding:MODEL. Options: languages=en,ja (what the model covers; others abstain), "
                    "labels=LABEL:pathology,... (classifier), batch_size=N, device=auto|cpu|cuda, "
                    "precision=auto|fp32|fp16|bf16, revision=REV. Only utterances that scorer version has not "
                    "scored are scored.")
    parser.add_argument("--scorer", action="append", required=True, metavar="NAME[:MODEL]",
                        help="a scorer to run (repeatable)")
    parser.add_argument("--languages", type=comma_list, help="score only runs in these languages")
    parser.add_argument("--no-marts", action="store_true", help="do not rebuild the dbt marts afterwards")
    add_db_argument(parser)
    parser.set_defaults(handler=handle)


def _rebuild_marts(db_path: Path) -> None:
    from core.errors import BackfireError
    from orchestration.dbt.project import run_dbt

    done = run_dbt(["build", "--quiet", "--no-use-colors"], db_path)
    if done.returncode != 0:
        tail = "\n  ".join((done.stdout + done.stderr).strip().splitlines()[-20:])
        raise BackfireError(f"the scores are stored, but dbt build failed:\n  {tail}",
                            fix="fix the above, then rerun `backfire score` (nothing is scored twice)")


def handle(args: argparse.Namespace) -> int:
    from analysis.tables import render_table
    from scoring import build_scorer, score_pending
    from scoring.spec import parse_scorer
    from warehouse.connection import connect, resolve_db_path

    entries = [parse_scorer(text) for text in args.scorer]  # every spec is checked before any model loads
    scorers = [build_scorer(entry) for entry in entries]  # every model loads before anything is written
    db_path = resolve_db_path(args.db)
    connect(db_path, read_only=True).close()  # a missing warehouse is a clear error, not an empty one
    rows = []
    with connect(db_path) as con:
        for scorer in scorers:
            started = time.perf_counter()
            stats = score_pending(con, scorer, languages=args.languages)
            seconds = time.perf_counter() - started
            done = stats.utterances_scored + stats.utterances_abstained
            rows.append((scorer.name, scorer.version, scorer.device, stats.utterances_scored,
                         stats.utterances_abstained, stats.rows_written,
                         f"{done / seconds:,.0f}" if done and seconds > 0 else "-"))
    print(render_table(("scorer", "version", "device", "scored", "abstained", "rows", "utt/s"), rows))
    if not args.no_marts:
        _rebuild_marts(db_path)
        print("marts rebuilt: metric v2 columns in marts.run_metrics / agent_metrics, "
              "marts.backfire_by_language_v2, marts.scorer_coverage")
    print(f"warehouse: {db_path}")
    return 0
