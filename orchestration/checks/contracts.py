"""Great Expectations-backed checks on each Python stage, scoped to the study being materialized.

They are blocking: a failed contract stops downstream assets, so bad data never reaches a mart.
"""


from collections.abc import Callable

import dagster as dg
import pandas as pd

from data_contracts._gx import ContractResult
from data_contracts.content import check_languages, validate_content_packs
from data_contracts.design import validate_agents, validate_runs
from data_contracts.scores import validate_scores
from data_contracts.transcripts import validate_utterances
from orchestration.assets.content import CONTENT_PACKS
from orchestration.assets.design import AGENTS, RUNS
from orchestration.assets.scoring import SCORES
from orchestration.assets.simulation import UTTERANCES
from orchestration.resources import StudyResource, WarehouseResource

_STUDY_RUNS = "select run_id from raw.runs where study = ?"


def _to_check_result(result: ContractResult) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        passed=result.success,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={"rows": result.n_rows, "expectations": result.n_expectations,
                  "failures": dg.MetadataValue.md("\n".join(f"- {f}" for f in result.failures) or "none")},
        description=result.summary(),
    )


def _frame(warehouse: WarehouseResource, sql: str, parameter: object) -> pd.DataFrame:
    with warehouse.reader() as con:
        return con.execute(sql, [parameter]).df()


@dg.asset_check(asset=CONTENT_PACKS, name="content_packs_contract", blocking=True,
                description="The recorded packs pass their GX suite, and every pack the study uses passes the "
                            "content rules (its phrase banks agree with its lexicon).")
def content_packs_contract(warehouse: WarehouseResource, study: StudyResource) -> dg.AssetCheckResult:
    spec = study.load()
    frame = _frame(warehouse, "select * from raw.content_packs where language in (select unnest(?))",
                   spec.design.languages)
    result = validate_content_packs(frame)
    result.failures += check_languages(spec.design.languages)
    result.n_expectations += len(spec.design.languages)
    return _to_check_result(result)


def _table_check(asset: dg.AssetKey, name: str, sql: str,
                 validate: Callable[[pd.DataFrame], ContractResult]) -> dg.AssetChecksDefinition:
    @dg.asset_check(asset=asset, name=name, blocking=True,
                    description=f"Schema and expectation suite of {'.'.join(asset.path)} for the study.")
    def _check(warehouse: WarehouseResource, study: StudyResource) -> dg.AssetCheckResult:
        return _to_check_result(validate(_frame(warehouse, sql, study.load().name)))

    return _check


runs_contract = _table_check(RUNS, "runs_contract", "select * from raw.runs where study = ?", validate_runs)
agents_contract = _table_check(AGENTS, "agents_contract",
                               f"select * from raw.agents where run_id in ({_STUDY_RUNS})", validate_agents)
utterances_contract = _table_check(UTTERANCES, "utterances_contract",
                                   f"select * from raw.utterances where run_id in ({_STUDY_RUNS})",
                                   validate_utterances)
scores_contract = _table_check(
    SCORES, "scores_contract",
    f"select s.* from raw.scores s join raw.utterances u using (utterance_id) where u.run_id in ({_STUDY_RUNS})",
    validate_scores)

CONTRACT_CHECKS = [content_packs_contract, runs_contract, agents_contract, utterances_contract, scores_contract]
