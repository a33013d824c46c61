"""All dbt models as one @dbt_assets: ``dbt build`` runs models and their tests (tests become asset checks).

Each model's materialization carries its row count and languages; the effect marts carry the study's backfire
table and forest plot, and the usage mart its cost and failed calls. The warehouse is read after dbt exits
(DuckDB has one writer), so events are collected first, then enriched and yielded.
"""


from collections.abc import Iterator
from typing import Any

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets

from orchestration.dbt.project import dbt_project
from orchestration.dbt.translator import BackfireDbtTranslator
from orchestration.metadata import svg_markdown, viewer_links
from orchestration.resources import DUCKDB_WRITER_POOL, StudyResource, WarehouseResource
from warehouse.connection import table_exists

_FIGURES = {"backfire_by_language": "cpi_forest", "dissociation_by_language": "di_forest"}


def _columns(con: Any, schema: str, table: str) -> set[str]:
    return {row[0] for row in con.execute("select column_name from information_schema.columns "
                                          "where table_schema = ? and table_name = ?", [schema, table]).fetchall()}


def _model_metadata(con: Any, schema: str, table: str, study: str, figures: dict[str, str]) -> dict[str, Any]:
    if not table_exists(con, schema, table):
        return {}
    metadata: dict[str, Any] = {"rows": con.execute(f'select count(*) from "{schema}"."{table}"').fetchone()[0]}
    columns = _columns(con, schema, table)
    if "language" in columns:
        languages = [r[0] for r in con.execute(f'select distinct language from "{schema}"."{table}" order by 1')
                     .fetchall()]
        metadata["languages"] = ", ".join(str(lang) for lang in languages)
        if table in _FIGURES:
            metadata.update(viewer_links(study, [str(lang) for lang in languages]))
    if table == "usage_by_language_model":
        cost, calls, errors = con.execute(
            f'select sum(cost_usd), sum(calls), sum(errors) from "{schema}"."{table}"').fetchone()
        metadata.update(cost_usd=round(float(cost or 0), 6), calls=int(calls or 0), failed_calls=int(errors or 0))
    if table == "scorer_validation":
        from analysis.scorer_validation import f1_rows
        from analysis.tables import render_table

        rows = [(r["scorer"], r["scorer_version"], r["language"], r["n"], r["f1"], r["kappa"],
                 "F1 < 0.7" if r["f1_warning"] else "") for r in f1_rows(con)]
        metadata["languages_below_f1_warning"] = sum(1 for row in rows if row[-1])
        metadata["f1_by_language"] = dg.MetadataValue.md(
            render_table(["scorer", "version", "language", "n", "F1", "kappa", "warning"], rows, markdown=True))
    if table in _FIGURES:
        from analysis.tables import backfire_table, render_table

        metadata["study"] = study
        if table == "backfire_by_language":
            metadata["backfire_table"] = dg.MetadataValue.md(backfire_table(con, study, markdown=True))
        else:
            rows = con.execute(f"""select language, model, round(hedges_g, 3), round(p_value, 4), direction
                                   from "{schema}"."{table}" where study = ? order by 1, 2""", [study]).fetchall()
            metadata["dissociation_table"] = dg.MetadataValue.md(
                render_table(["language", "model", "g", "p", "direction"], rows, markdown=True))
        if svg := figures.get(_FIGURES[table]):
            metadata["forest_plot"] = dg.MetadataValue.md(svg_markdown(_FIGURES[table], svg))
    return metadata


def _enriched(context: dg.AssetExecutionContext, events: list[Any], warehouse: WarehouseResource,
              study: str) -> Iterator[Any]:
    from analysis.report.html import study_section

    with warehouse.reader() as con:
        figures = study_section(con, study).figures if table_exists(con, "marts", "backfire_by_language") else {}
        for event in events:
            key = event.asset_key if isinstance(event, dg.AssetMaterialization) else None
            if isinstance(event, dg.Output):
                key = context.asset_key_for_output(event.output_name)
            if key is not None and len(key.path) == 2:
                metadata = _model_metadata(con, key.path[0], key.path[1], study, figures)
                yield event.with_metadata({**(event.metadata or {}), **metadata}) if metadata else event
            else:
                yield event


@dbt_assets(manifest=dbt_project().manifest_path, project=dbt_project(), dagster_dbt_translator=BackfireDbtTranslator(),
            name="backfire_dbt_models", pool=DUCKDB_WRITER_POOL)
def backfire_dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource,
                        study: StudyResource):
    gathered = warehouse.gather()  # the language shards' new rows into main's raw tables, which dbt reads
    if gathered.loaded:
        context.log.info("gathered %d language shard(s) into the warehouse: %s (%d utterances, %d new cached "
                         "calls)", len(gathered.loaded), ", ".join(gathered.loaded), gathered.utterances,
                         gathered.llm_calls)
    # A subset (e.g. the models a backfill can build before the language partitions) runs only the tests
    # whose every parent is selected; the default would test against models not built yet.
    with warehouse.dbt_env():
        invocation = dbt.cli(["build", "--indirect-selection", "cautious"], context=context, raise_on_error=False)
        events = list(invocation.stream())
    yield from _enriched(context, events, warehouse, study.load().name)
    if not invocation.is_successful():
        raise invocation.get_error() or RuntimeError("dbt build failed; see the run log")
