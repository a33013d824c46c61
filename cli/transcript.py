"""``backfire transcript RUN_ID``: one run's turns for a terminal, talk beside monologue."""

from __future__ import annotations

import argparse

from cli._common import add_db_argument, positive_int

MAX_WIDTH = 140
"""Wider terminals still get 140 columns: longer lines are hard to read."""


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("transcript", help="print a run's turns: each event, then every agent's talk "
                                               "beside its monologue")
    parser.add_argument("run_id", metavar="RUN_ID",
                        help="a run id from raw.runs, or a unique prefix of one (list them with backfire query "
                             "\"select run_id, study, language from raw.runs\")")
    parser.add_argument("--turn", type=positive_int, metavar="N", help="only turn N (1-based)")
    parser.add_argument("--agent", type=int, metavar="K", help="only agent K (0-based, as agent_idx)")
    parser.add_argument("--width", type=positive_int, metavar="N",
                        help=f"columns to lay out for (default: the terminal's, at most {MAX_WIDTH}; 100 when "
                             "piped); under 80 talk and monologue go one under the other")
    add_db_argument(parser)
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    import shutil

    from analysis.transcript import render_transcript
    from warehouse.connection import connect

    width = args.width or min(shutil.get_terminal_size((100, 24)).columns, MAX_WIDTH)
    with connect(args.db, read_only=True) as con:
        print(render_transcript(con, args.run_id, turn=args.turn, agent=args.agent, width=width))
    return 0
