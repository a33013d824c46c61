"""Running an expectation suite on a pandas frame with Great Expectations (imported lazily: ~6 s).

GX 1.x on DuckDB through a SQL datasource fails every expectation (a known GX bug), so stages read
DuckDB into pandas and validate with GX's pandas datasource in an ephemeral context.
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class Expectation:
    """One GX expectation by class name, e.g. ``Expectation("ExpectColumnValuesToNotBeNull", column="run_id")``."""

    kind: str
    kwargs: dict[str, Any]

    def __init__(self, kind: str, **kwargs: Any) -> None:
        object.__setattr__(self, "kind", kind)
        object.__setattr__(self, "kwargs", kwargs)

    def describe(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.kwargs.items())
        return f"{self.kind}({args})"


@dataclass
class ContractResult:
    """Outcome of one table's contract; ``failures`` are readable lines naming stage, table, column, rule.
    ``warnings`` are lines of the same shape that do not fail it (results to read with care, not bad data)."""

    stage: str
    table: str
    n_rows: int
    failures: list[str] = field(default_factory=list)
    n_expectations: int = 0
    warnings: list[str] = field(default_factory=list)

    @property
    def success(self) -> bool:
        return not self.failures

    def summary(self) -> str:
        head = f"{self.stage}/{self.table}: {self.n_rows} rows, {self.n_expectations} expectations"
        lines = [*self.failures, *(f"warning: {w}" for w in self.warnings)]
        return head + (": ok" if not lines else ":\n  " + "\n  ".join(lines))


@functools.cache
def _context() -> Any:
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    import great_expectations as gx

    logging.getLogger("great_expectations").setLevel(logging.ERROR)  # after import: GX sets its own level

    previous = logging.root.manager.disable
    logging.disable(logging.INFO)  # GX logs its temporary docs folder at INFO from a logger with its own level
    try:
        context = gx.get_context(mode="ephemeral")
    finally:
        logging.disable(previous)
    context.variables.progress_bars = {"globally": False, "metric_calculations": False}  # type: ignore[assignment]
    return context


def check_columns(stage: str, table: str, frame: pd.DataFrame, required: Sequence[str]) -> list[str]:
    missing = [c for c in required if c not in frame.columns]
    return [f"{stage}/{table}: missing column '{c}'" for c in missing]


def validate_frame(stage: str, table: str, frame: pd.DataFrame, required_columns: Sequence[str],
                   expectations: Sequence[Expectation]) -> ContractResult:
    """Check the schema, then run every expectation; an empty table fails (a stage that wrote nothing)."""
    result = ContractResult(stage, table, len(frame), n_expectations=len(expectations))
    result.failures += check_columns(stage, table, frame, required_columns)
    if result.failures:
        return result
    if frame.empty:
        result.failures.append(f"{stage}/{table}: table is empty")
        return result
    import great_expectations as gx

    context = _context()
    name = f"{stage}_{table}"
    try:
        source = context.data_sources.get(name)
    except (KeyError, ValueError):
        source = context.data_sources.add_pandas(name)
    try:
        asset = source.get_asset(table)
    except (LookupError, ValueError):
        asset = source.add_dataframe_asset(table)
    try:
        batch_definition = asset.get_batch_definition(name)
    except (KeyError, LookupError, ValueError):
        batch_definition = asset.add_batch_definition_whole_dataframe(name)
    batch = batch_definition.get_batch(batch_parameters={"dataframe": frame})
    suite = gx.ExpectationSuite(name=f"{name}_suite")
    for spec in expectations:
        suite.add_expectation(getattr(gx.expectations, spec.kind)(**spec.kwargs))
    outcome = batch.validate(suite)
    for spec, item in zip(expectations, outcome.results, strict=True):
        if not item.success:
            observed = item.result.get("partial_unexpected_list") or item.result.get("observed_value")
            column = spec.kwargs.get("column") or spec.kwargs.get("column_list") or "(table)"
            result.failures.append(f"{stage}/{table}: column {column}: {spec.describe()} failed"
                                   + (f"; e.g. {observed!r:.200}" if observed is not None else ""))
    return result
