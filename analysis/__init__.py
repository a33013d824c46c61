"""Statistics shared by dbt (as DuckDB functions) and Python (reports, tests)."""

from analysis.effects import EffectSize, hedges_g, t_two_sided_p

__all__ = ["EffectSize", "hedges_g", "t_two_sided_p"]
