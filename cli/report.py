"""``backfire report --out DIR``: a self-contained HTML report (SVG figures) of the studies in the warehouse."""

from __future__ import annotations

import argparse

from cli._common import add_db_argument, comma_list


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("report", help="write DIR/report.html: forest plots, dose curves, DI, individuation, "
                                           "models, statistics and the replication scorecard")
    parser.add_argument("--out", required=True, metavar="DIR", help="folder for report.html (created if missing)")
    parser.add_argument("--studies", type=comma_list, help="studies to include (default: every study)")
    add_db_argument(parser)
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    from pathlib import Path

    from analysis.report.html import build_report
    from warehouse.connection import connect, resolve_db_path

    with connect(args.db, read_only=True) as con:
        path, sections = build_report(con, Path(args.out), studies=args.studies, source=str(resolve_db_path(args.db)))
    for section in sections:
        print(f"{section.study}: {len(section.figures)} figures{' (synthetic)' if section.synthetic else ''}")
    print(f"report: {path.resolve()}")
    return 0
