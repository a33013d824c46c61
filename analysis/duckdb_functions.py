"""DuckDB functions the marts need (DuckDB has no t or F distribution), and the dbt-duckdb plugin that adds them.

Registered on dbt's connection through ``plugins: [{module: analysis.duckdb_functions}]`` in profiles.yml.
"""

from __future__ import annotations

from typing import Any

from analysis.effects import f_upper_p, t_quantile, t_two_sided_p


def register_functions(conn: Any) -> None:
    """Add ``t_two_sided_p(t, df)``, ``t_quantile(p, df)`` and ``f_upper_p(f, df1, df2)`` to a connection."""
    from duckdb import sqltypes

    double = sqltypes.DOUBLE
    for name, function, arity in (("t_two_sided_p", t_two_sided_p, 2), ("t_quantile", t_quantile, 2),
                                   ("f_upper_p", f_upper_p, 3)):
        try:
            # SPECIAL: the functions answer NULL where the statistic is undefined (df <= 0: one run per arm),
            # which DuckDB's default handling rejects as an error instead of passing the NULL on.
            conn.create_function(name, function, [double] * arity, double, side_effects=False,
                                 null_handling="special")
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
