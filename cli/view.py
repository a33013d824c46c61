"""``backfire view``: read runs in the browser (a local, read-only web app), or ``--export DIR`` them as a static
bundle that opens from disk."""

from __future__ import annotations

import argparse

from cli._common import add_db_argument, comma_list, positive_int

DEFAULT_PORT = 8765


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("view", help="read transcripts in the browser: runs list, run pages, comparisons "
                                         "(a read-only local web app on 127.0.0.1)")
    parser.add_argument("--port", type=positive_int, default=DEFAULT_PORT,
                        help=f"port on 127.0.0.1 (default {DEFAULT_PORT})")
    parser.add_argument("--export", metavar="DIR", default=None,
                        help="write the pages as a static bundle (HTML, JS, the runs as JSON) into DIR instead of "
                             "serving them; it opens from disk with no server")
    parser.add_argument("--study", metavar="S", default="", help="with --export: only this study's runs")
    parser.add_argument("--languages", type=comma_list, metavar="LIST", default=[],
                        help="with --export: only these languages, e.g. en,ja,ar")
    parser.add_argument("--max-runs", type=positive_int, metavar="N", default=None,
                        help="with --export: at most N runs, spread over the languages")
    add_db_argument(parser)
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    from pathlib import Path

    from warehouse.connection import connect, resolve_db_path

    db = resolve_db_path(args.db)
    with connect(db, read_only=True) as con:  # a missing or locked warehouse fails here, as every verb does
        if args.export is None:
            con.execute("select count(*) from raw.runs").fetchone()
        else:
            from viewer.export import export_bundle

            result = export_bundle(con, Path(args.export), study=args.study, languages=args.languages,
                                   max_runs=args.max_runs)
            print(f"wrote {result.n_runs} runs to {result.folder}; open {result.folder / 'index.html'}")
            return 0
    from viewer.server import serve

    serve(db, args.port)
    return 0
