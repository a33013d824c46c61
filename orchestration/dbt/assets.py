"""All dbt models as one @dbt_assets: ``dbt build`` runs models and their tests (tests become asset checks)."""


import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets

from orchestration.dbt.project import dbt_project
from orchestration.dbt.translator import BackfireDbtTranslator
from orchestration.resources import DUCKDB_WRITER_POOL, WarehouseResource


@dbt_assets(manifest=dbt_project().manifest_path, dagster_dbt_translator=BackfireDbtTranslator(),
            name="backfire_dbt_models", pool=DUCKDB_WRITER_POOL)
def backfire_dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource):
    warehouse.export_env()
    yield from dbt.cli(["build"], context=context).stream()
