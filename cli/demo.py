"""``backfire demo``: the offline demo study (synthetic backend), end to end into the marts."""

from __future__ import annotations

import argparse

from cli._common import DEMO_STUDY, add_db_argument, add_instance_argument


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("demo", help="run the offline demo study end to end and print the backfire table")
    add_db_argument(parser)
    add_instance_argument(parser)
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    from cli.run import run_and_report

    return run_and_report(str(DEMO_STUDY), db=args.db, verbose=args.verbose, ephemeral=args.ephemeral)
