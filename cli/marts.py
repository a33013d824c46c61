"""``backfire marts``: rebuild only the marts of an existing warehouse (``refresh_marts_job``), e.g. after a
seed or PDI change, without playing, scoring or writing any raw row. A warehouse written before the storage
format was pinned (DuckDB 2.0's 'latest') is first rewritten so that DuckDB 1.4 and later clients open it."""

from __future__ import annotations

import argparse

from cli._common import add_db_argument, add_instance_argument


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "marts", help="rebuild the dbt marts and the statistics mart from what is stored (no model is called)",
        description="One Dagster run of refresh_marts_job: dbt seeds, staging, intermediate and marts (with "
                    "their tests as checks), then marts.stats_models. Raw tables are read, never written; use "
                    "it after editing a seed (e.g. models_dbt/seeds/hofstede_power_distance.csv) or a mart.")
    add_db_argument(parser)
    add_instance_argument(parser)
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    import time

    from core.errors import WarehouseError
    from orchestration.launch import raise_for_failure, refresh_marts
    from warehouse.connection import connect, resolve_db_path, table_exists

    db_path = resolve_db_path(args.db)
    with connect(db_path, read_only=True) as con:  # a missing or foreign file is a clear error, not a new one
        if not table_exists(con, "raw", "runs"):
            raise WarehouseError("no runs stored, so there are no marts to rebuild", file=str(db_path),
                                 fix="run `backfire demo` or `backfire run STUDY` first, or pass --db PATH")
    from warehouse.storage import rewrite_storage

    if rewrite_storage(db_path):  # a warehouse from before the storage pin: make it readable by DuckDB 1.x
        print("warehouse rewritten in DuckDB's v1.4.0 storage format, so DuckDB 1.4 and later clients open it")
    started = time.perf_counter()
    result = refresh_marts(db=db_path, log_level="INFO" if args.verbose else "CRITICAL", ephemeral=args.ephemeral)
    raise_for_failure(result)
    with connect(db_path, read_only=True) as con:
        marts = [name for (name,) in con.execute(
            "select table_name from information_schema.tables where table_schema = 'marts' "
            "and table_type = 'BASE TABLE' order by 1").fetchall()]
    print(f"marts rebuilt in {time.perf_counter() - started:.1f} s: {len(marts)} tables in schema marts "
          f"({', '.join(marts)}); raw tables untouched")
    print(f"Dagster run: {result.run_id}")
    print(f"warehouse: {db_path}")
    print(f"log: {result.log_path}")
    return 0
