"""``backfire tables``: every table and view of the warehouse with its row count."""

from __future__ import annotations

import argparse

from cli._common import add_db_argument


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("tables", help="list the warehouse's tables with row counts")
    add_db_argument(parser)
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    from analysis.tables import render_table
    from warehouse.connection import connect, resolve_db_path

    with connect(args.db, read_only=True) as con:
        names = con.execute("select table_schema, table_name, table_type from information_schema.tables "
                            "where table_schema in ('raw', 'staging', 'intermediate', 'marts') "
                            "order by case table_schema when 'raw' then 0 when 'staging' then 1 "
                            "when 'intermediate' then 2 else 3 end, table_name").fetchall()
        rows = [(f"{schema}.{name}", "view" if kind == "VIEW" else "table",
                 con.execute(f'select count(*) from "{schema}"."{name}"').fetchone()[0])  # type: ignore[index]
                for schema, name, kind in names]
    print(render_table(("table", "kind", "rows"), rows))
    print(f"\nwarehouse: {resolve_db_path(args.db)}")
    return 0
