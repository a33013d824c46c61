"""Great Expectations-backed checks on each Python stage, scoped to the study being materialized.

They are blocking: a failed contract stops downstream assets, so bad data never reaches a mart. The contracts
themselves (rows, suites) live in data_contracts/warehouse_check.py, shared with ``backfire check``.
"""


import dagster as dg

from data_contracts._gx import ContractResult
from data_contracts.warehouse_check import TableContract, content_contract, mart_contracts, table_contracts
from orchestration.assets.content import CONTENT_PACKS
from orchestration.assets.design import AGENTS, RUNS
from orchestration.assets.scoring import SCORES
from orchestration.assets.simulation import UTTERANCES
from orchestration.resources import StudyResource, WarehouseResource


def _to_check_result(result: ContractResult) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        passed=result.success,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={"rows": result.n_rows, "expectations": result.n_expectations,
                  "failures": dg.MetadataValue.md("\n".join(f"- {f}" for f in result.failures) or "none")},
        description=result.summary(),
    )


@dg.asset_check(asset=CONTENT_PACKS, name="content_packs_contract", blocking=True,
                description="The recorded packs pass their GX suite, and every pack the study uses passes the "
                            "content rules (its phrase banks agree with its lexicon).")
def content_packs_contract(warehouse: WarehouseResource, study: StudyResource) -> dg.AssetCheckResult:
    with warehouse.reader() as con:
        return _to_check_result(content_contract(con, study.load().design.languages))


def _table_check(asset: dg.AssetKey, contract: TableContract) -> dg.AssetChecksDefinition:
    @dg.asset_check(asset=asset, name=contract.name, blocking=True,
                    description=f"Schema and expectation suite of {'.'.join(asset.path)} for the study.")
    def _check(warehouse: WarehouseResource, study: StudyResource) -> dg.AssetCheckResult:
        with warehouse.reader() as con:
            return _to_check_result(contract.validate(con.execute(contract.sql, [study.load().name]).df()))

    return _check


_ASSETS = {"runs_contract": RUNS, "agents_contract": AGENTS, "utterances_contract": UTTERANCES,
           "scores_contract": SCORES}
CONTRACT_CHECKS = [content_packs_contract,
                   *(_table_check(_ASSETS[contract.name], contract) for contract in table_contracts())]


def _mart_check(asset: dg.AssetKey, name: str) -> dg.AssetChecksDefinition:
    @dg.asset_check(asset=asset, name=name, blocking=True,
                    description=f"Great Expectations suite of {'.'.join(asset.path)} for the study: usable results "
                                "(every language present, measures in range, few missing, failed calls under 20%).")
    def _check(warehouse: WarehouseResource, study: StudyResource) -> dg.AssetCheckResult:
        with warehouse.reader() as con:
            results = dict(mart_contracts(con, study.load().name))
        return _to_check_result(results[name])

    return _check


MART_CHECKS = [_mart_check(dg.AssetKey(["marts", "run_metrics"]), "run_metrics_contract"),
               _mart_check(dg.AssetKey(["marts", "backfire_by_language"]), "backfire_by_language_contract")]
