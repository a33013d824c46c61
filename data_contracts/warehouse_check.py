"""Every stage contract on an existing warehouse, study by study: what ``backfire check`` and the Dagster
asset checks run. One list of (contract, rows of the study, suite), so both always check the same thing."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import duckdb
    import pandas as pd

    from data_contracts._gx import ContractResult

STUDY_RUNS = ("select run_id from raw.runs where (?::varchar is null or study = ?) "
              "and (? or language in (select unnest(?)))")


@dataclass(frozen=True)
class TableContract:
    name: str
    sql: str
    """Selects the study's rows (of some languages); see ``rows`` for its parameters."""
    validate: Callable[[pd.DataFrame], ContractResult]

    def rows(self, con: duckdb.DuckDBPyConnection, study: str | None,
             languages: Sequence[str] | None = None) -> pd.DataFrame:
        """The study's rows (every study's when ``study`` is None, as after a rescore of the warehouse), only
        of ``languages`` when given (a language partition)."""
        return con.execute(self.sql, [study, study, languages is None, list(languages or [])]).df()

    def check(self, con: duckdb.DuckDBPyConnection, study: str | None,
              languages: Sequence[str] | None = None) -> ContractResult:
        return self.validate(self.rows(con, study, languages))


def table_contracts() -> list[TableContract]:
    from data_contracts.design import validate_agents, validate_runs
    from data_contracts.scores import validate_scores
    from data_contracts.transcripts import validate_utterances

    return [
        TableContract("runs_contract", f"select * from raw.runs where run_id in ({STUDY_RUNS})", validate_runs),
        TableContract("agents_contract", f"select * from raw.agents where run_id in ({STUDY_RUNS})", validate_agents),
        # Each row carries its study's language and the study's recorded floors (raw.studies).
        TableContract("utterances_contract", "select u.*, r.study, r.language, st.max_truncated_share "
                                             "from raw.utterances u join raw.runs r using (run_id) "
                                             "left join raw.studies st on st.study = r.study "
                                             f"where u.run_id in ({STUDY_RUNS})", validate_utterances),
        TableContract("scores_contract", "select s.*, r.study, r.language, st.min_language_fidelity "
                                         "from raw.scores s join raw.utterances u using (utterance_id) "
                                         "join raw.runs r using (run_id) "
                                         "left join raw.studies st on st.study = r.study "
                                         f"where u.run_id in ({STUDY_RUNS})", validate_scores),
    ]


def content_contract(con: duckdb.DuckDBPyConnection, languages: Sequence[str]) -> ContractResult:
    """The recorded packs' suite plus the content rules of every pack the study uses."""
    from data_contracts.content import check_languages, validate_content_packs

    frame = con.execute("select * from raw.content_packs where language in (select unnest(?))",
                        [list(languages)]).df()
    result = validate_content_packs(frame)
    result.failures += check_languages(list(languages))
    result.n_expectations += len(languages)
    return result


def mart_contracts(con: duckdb.DuckDBPyConnection, study: str) -> list[tuple[str, ContractResult]]:
    """The study's results: run-level measures and the effect table (after dbt built them), and what the
    endpoints served (warnings only; a warehouse whose marts predate ``marts.served_models`` skips it)."""
    from data_contracts.marts import validate_backfire, validate_run_metrics, validate_served_models
    from warehouse.connection import table_exists

    runs = con.execute("select * from marts.run_metrics where study = ?", [study]).df()
    effects = con.execute("select * from marts.backfire_by_language where study = ?", [study]).df()
    languages = sorted(set(runs.loc[~runs["individuation"], "language"])) if len(runs) else []
    results = [("run_metrics_contract", validate_run_metrics(runs)),
               ("backfire_by_language_contract", validate_backfire(effects, languages))]
    if table_exists(con, "marts", "served_models"):
        served = con.execute("select * from marts.served_models where study = ? order by all", [study]).df()
        results.append(("served_models_contract", validate_served_models(served)))
    return results


def check_study(con: duckdb.DuckDBPyConnection, study: str) -> list[tuple[str, ContractResult]]:
    """Every contract of one study, in stage order (the marts' when dbt has built them)."""
    languages = [row[0] for row in con.execute("select distinct language from raw.runs where study = ? order by 1",
                                               [study]).fetchall()]
    results: list[tuple[str, Any]] = [("content_packs_contract", content_contract(con, languages))]
    for contract in table_contracts():
        results.append((contract.name, contract.check(con, study)))
    from warehouse.connection import table_exists

    if table_exists(con, "marts", "run_metrics") and table_exists(con, "marts", "backfire_by_language"):
        results += mart_contracts(con, study)
    return results
