"""DuckDB functions the marts need (DuckDB has no t distribution), and the dbt-duckdb plugin that adds them.

Registered on dbt's connection through ``plugins: [{module: analysis.duckdb_functions}]`` in profiles.yml.
"""

from __future__ import annotations

from typing import Any

from analysis.effects import t_two_sided_p


def register_functions(conn: Any) -> None:
    """Add ``t_two_sided_p(t, df)`` to a DuckDB connection."""
    from duckdb import sqltypes

    try:
        conn.create_function("t_two_sided_p", t_two_sided_p, [sqltypes.DOUBLE, sqltypes.DOUBLE], sqltypes.DOUBLE,
                             side_effects=False)
    except Exception as exc:  # already registered on this connection
        if "already exists" not in str(exc):
            raise


try:
    from dbt.adapters.duckdb.plugins import BasePlugin
except ImportError:  # dbt-duckdb absent: the functions still register on plain connections
    BasePlugin = object  # type: ignore[assignment,misc]


class Plugin(BasePlugin):
    """dbt-duckdb plugin: registers our functions on every connection dbt opens."""

    def configure_connection(self, conn: Any) -> None:
        register_functions(conn)
