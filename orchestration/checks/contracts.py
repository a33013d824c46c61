"""Great Expectations-backed checks on each stage, scoped to the study being materialized.

They are blocking: a failed contract stops downstream assets, so bad data never reaches a mart. The checks
of the language-partitioned stages are partitioned too and check only their languages, on the partitions' published
shards in the sharded layout (no pool: a published copy is never written). Every other check opens the main file,
so each runs in the writer pool: a reader holding the file would make a writer (dbt) fail.
The contracts themselves live in data_contracts/warehouse_check.py, shared with ``backfire check``.
"""


import warnings

import dagster as dg

from data_contracts._gx import ContractResult
from data_contracts.warehouse_check import TableContract, content_contract, mart_contracts, table_contracts
from orchestration.assets.content import CONTENT_PACKS
from orchestration.assets.design import AGENTS, RUNS
from orchestration.assets.scoring import SCORES
from orchestration.assets.simulation import UTTERANCES
from orchestration.jobs import REFRESH_MARTS_JOB, RESCORE_JOB
from orchestration.resources import DUCKDB_WRITER_POOL, PARTITION_POOL, StudyResource, WarehouseResource

_ASSETS = {"runs_contract": RUNS, "agents_contract": AGENTS, "utterances_contract": UTTERANCES,
           "scores_contract": SCORES}
_PARTITIONED = {UTTERANCES, SCORES}


def _to_check_result(result: ContractResult, **extra: str) -> dg.AssetCheckResult:
    """A failure is an ERROR (it blocks what a blocking check guards); warnings alone fail the check at WARN
    severity, which blocks nothing and shows in the UI."""
    warned = result.success and bool(result.warnings)
    return dg.AssetCheckResult(
        passed=result.success and not warned,
        severity=dg.AssetCheckSeverity.WARN if warned else dg.AssetCheckSeverity.ERROR,
        metadata={"rows": result.n_rows, "expectations": result.n_expectations, **extra,
                  "failures": dg.MetadataValue.md("\n".join(f"- {f}" for f in result.failures) or "none"),
                  "warnings": dg.MetadataValue.md("\n".join(f"- {w}" for w in result.warnings) or "none")},
        description=result.summary(),
    )


@dg.asset_check(asset=CONTENT_PACKS, name="content_packs_contract", blocking=True, pool=DUCKDB_WRITER_POOL,
                description="The recorded packs pass their GX suite, and every pack the study uses passes the "
                            "content rules (its phrase banks agree with its lexicon).")
def content_packs_contract(warehouse: WarehouseResource, study: StudyResource) -> dg.AssetCheckResult:
    with warehouse.reader() as con:
        return _to_check_result(content_contract(con, study.load().design.languages))


def _table_check(asset: dg.AssetKey, contract: TableContract) -> dg.AssetChecksDefinition:
    @dg.asset_check(asset=asset, name=contract.name, blocking=True, pool=DUCKDB_WRITER_POOL,
                    description=f"Schema and expectation suite of {'.'.join(asset.path)} for the study.")
    def _check(warehouse: WarehouseResource, study: StudyResource) -> dg.AssetCheckResult:
        with warehouse.reader() as con:
            return _to_check_result(contract.check(con, study.load().name))

    return _check


def _merged(results: list[ContractResult]) -> ContractResult:
    """One result for a contract checked in several places (studies, shards)."""
    return ContractResult(results[0].stage, results[0].table, sum(r.n_rows for r in results),
                          [f for r in results for f in r.failures], sum(r.n_expectations for r in results),
                          [w for r in results for w in r.warnings])


def _shard_results(warehouse: WarehouseResource, contract: TableContract, pairs: list[tuple[str, str]],
                   every_study: bool) -> list[ContractResult]:
    """The contract on each (study, language) published shard; a shard never published holds no rows yet."""
    results = []
    for name, language in pairs:
        with warehouse.partition_reader(name, language) as con:
            if con is not None:
                results.append(contract.check(con, None if every_study else name, [language]))
    return results


def _partitioned_check(asset: dg.AssetKey, contract: TableContract,
                       partitions: dg.PartitionsDefinition) -> dg.AssetChecksDefinition:
    @dg.asset_check(asset=asset, name=contract.name, blocking=True, pool=PARTITION_POOL,
                    partitions_def=partitions,
                    description=f"Schema and expectation suite of {'.'.join(asset.path)} for the study's runs in "
                                "the partition's languages (a language the study does not run passes, empty); "
                                "in the sharded layout it reads the partitions' published shards.")
    def _check(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource,
               study: StudyResource) -> dg.AssetCheckResult:
        if context.op_execution_context.run.job_name == RESCORE_JOB:  # it scored every study's utterances
            languages = list(context.op_execution_context.partition_keys)
            scope = {"languages": ", ".join(languages), "scope": "every study (rescore)"}
            if warehouse.sharded:
                pairs = [(name, lang) for lang in languages for name in warehouse.partition_studies(lang)]
                results = _shard_results(warehouse, contract, pairs, every_study=True)
                if not results:
                    return dg.AssetCheckResult(passed=True, description="no stored runs in these languages")
                return _to_check_result(_merged(results), **scope)
            with warehouse.reader() as con:
                return _to_check_result(contract.check(con, None, languages), **scope)
        spec = study.load()
        languages = [k for k in context.op_execution_context.partition_keys if k in spec.design.languages]
        if not languages:
            return dg.AssetCheckResult(passed=True, description=f"study {spec.name} has no runs in these languages")
        if warehouse.sharded:
            results = _shard_results(warehouse, contract, [(spec.name, lang) for lang in languages],
                                     every_study=False)
            if not results:
                return dg.AssetCheckResult(passed=False, description=f"study {spec.name} has no published shard "
                                           f"in {', '.join(languages)}: materialize the partition's assets first")
            return _to_check_result(_merged(results), languages=", ".join(languages))
        with warehouse.reader() as con:
            return _to_check_result(contract.check(con, spec.name, languages), languages=", ".join(languages))

    return _check


_MART_CHECK_DESCRIPTIONS = {
    "served_models_contract": "What the endpoints served for the study (every study's after refresh_marts_job): "
                              "a served model that differs from the requested one is a warning (WARN severity, "
                              "blocks nothing) naming study, language, requested and served model and the fix "
                              "(pin a snapshot).",
}


def _mart_check(asset: dg.AssetKey, name: str, *, blocking: bool = True) -> dg.AssetChecksDefinition:
    description = _MART_CHECK_DESCRIPTIONS.get(name, (
        f"Great Expectations suite of {'.'.join(asset.path)} for the study: usable results (every language "
        "present, measures in range, few missing, failed calls under 20%); every study's after refresh_marts_job."))

    @dg.asset_check(asset=asset, name=name, blocking=blocking, pool=DUCKDB_WRITER_POOL, description=description)
    def _check(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource,
               study: StudyResource) -> dg.AssetCheckResult:
        with warehouse.reader() as con:
            if context.op_execution_context.run.job_name == REFRESH_MARTS_JOB:  # rebuilt for every study
                studies = [row[0] for row in con.execute("select distinct study from raw.runs order by 1").fetchall()]
            else:
                studies = [study.load().name]
            results = [dict(mart_contracts(con, study_name))[name] for study_name in studies]
        if not results:
            return dg.AssetCheckResult(passed=True, description="no study in the warehouse")
        return _to_check_result(_merged(results), studies=", ".join(studies))

    return _check


def build_contract_checks(partitions: dg.PartitionsDefinition) -> list[dg.AssetChecksDefinition]:
    checks = [content_packs_contract]
    with warnings.catch_warnings():  # partitioned checks are a preview in Dagster 1.13; pinned in pyproject
        warnings.simplefilter("ignore", category=dg.PreviewWarning)
        for contract in table_contracts():
            asset = _ASSETS[contract.name]
            checks.append(_partitioned_check(asset, contract, partitions) if asset in _PARTITIONED
                          else _table_check(asset, contract))
    return checks


MART_CHECKS = [_mart_check(dg.AssetKey(["marts", "run_metrics"]), "run_metrics_contract"),
               _mart_check(dg.AssetKey(["marts", "backfire_by_language"]), "backfire_by_language_contract"),
               _mart_check(dg.AssetKey(["marts", "served_models"]), "served_models_contract", blocking=False)]
