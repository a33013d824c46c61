"""``backfire query "SQL"``: a read-only query on the warehouse.

The table format is for reading: numbers right, text left, widths in display cells, and text cut at
``--max-width`` cells (default 60) so one long utterance does not push every other column off the screen;
``--full`` keeps every character. csv and json are for scripts and are never cut."""

from __future__ import annotations

import argparse
import sys

from cli._common import add_db_argument, positive_int

DEFAULT_MAX_WIDTH = 60
"""Display cells a table cell may take before it is cut with an ellipsis: a 100-column terminal still shows the
cut column beside a few short ones."""


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("query", help="run read-only SQL on the warehouse")
    parser.add_argument("sql", help='e.g. "select * from marts.backfire_by_language"')
    parser.add_argument("--format", choices=("table", "csv", "json"), default="table")
    width = parser.add_mutually_exclusive_group()
    width.add_argument("--max-width", type=positive_int, default=DEFAULT_MAX_WIDTH, metavar="N",
                       help=f"table format: cut text cells at N display cells with an ellipsis "
                            f"(default {DEFAULT_MAX_WIDTH}); csv and json are never cut")
    width.add_argument("--full", action="store_true", help="table format: never cut a cell")
    add_db_argument(parser)
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    import duckdb

    from analysis.tables import render_table
    from core.errors import BackfireError
    from warehouse.connection import connect

    with connect(args.db, read_only=True) as con:
        try:
            cursor = con.execute(args.sql)
        except duckdb.Error as exc:
            raise BackfireError(f"query failed: {exc}".splitlines()[0], field="SQL",
                                fix="check table names with `backfire tables`; the warehouse is read-only "
                                    "here") from exc
        if cursor.description is None:
            return 0
        columns = [d[0] for d in cursor.description]
        frame = cursor.df() if args.format != "table" else None
        if args.format == "csv":
            assert frame is not None
            frame.to_csv(sys.stdout, index=False)
        elif args.format == "json":
            assert frame is not None
            print(frame.to_json(orient="records", force_ascii=False, date_format="iso", indent=1))
        else:
            print(render_table(columns, cursor.fetchall(), max_width=None if args.full else args.max_width))
    return 0
