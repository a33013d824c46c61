"""A snapshot of the Dagster surface: renamed contract tables, checks, jobs or schedules fail here."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow  # imports dagster_dbt and parses the dbt project when needed

EXPECTED_KEYS = {
    "raw/content_packs": "content", "raw/studies": "design", "raw/runs": "design", "raw/agents": "design",
    "raw/utterances": "simulation", "raw/scores": "scoring",
    "staging/stg_runs": "dbt_staging", "staging/stg_agents": "dbt_staging", "staging/stg_utterances": "dbt_staging",
    "staging/stg_scores": "dbt_staging", "staging/stg_model_prices": "dbt_staging",
    "marts/usage_by_run": "dbt_marts", "marts/usage_by_agent": "dbt_marts",
    "marts/usage_by_language_model": "dbt_marts", "marts/individuation_effects": "dbt_marts",
    "marts/model_consistency": "dbt_marts", "marts/language_pdi_effects": "dbt_marts",
    "marts/pdi_correlation": "dbt_marts", "marts/replication_scorecard": "dbt_marts",
    "reference/published_results": "dbt_seeds", "marts/stats_models": "analysis",
    "marts/backfire_drift": "dbt_marts", "drift_alerts": "analysis",
    "intermediate/int_calls": "dbt_intermediate", "intermediate/int_runs_effect_inputs": "dbt_intermediate",
    "intermediate/int_alignment_effects": "dbt_intermediate", "marts/alignment_effects": "dbt_marts",
    "marts/reference_sensitivity": "dbt_marts", "marts/utterance_scores": "dbt_marts",
    "intermediate/int_utterances_exclusion_flagged": "dbt_intermediate",
    "intermediate/int_runs_exclusions_counted": "dbt_intermediate",
    "intermediate/int_utterances_lexicon_pivoted": "dbt_intermediate",
    "intermediate/int_utterances_model_scores_pivoted": "dbt_intermediate",
    "intermediate/int_agents_measured": "dbt_intermediate", "intermediate/int_runs_measured": "dbt_intermediate",
    "intermediate/int_runs_zscored": "dbt_intermediate", "intermediate/int_agents_zscored": "dbt_intermediate",
    "marts/run_metrics": "dbt_marts", "marts/agent_metrics": "dbt_marts", "marts/backfire_by_language": "dbt_marts",
    "marts/dissociation_by_language": "dbt_marts", "marts/language_pdi": "dbt_marts",
    "marts/backfire_by_language_v2": "dbt_marts", "marts/dissociation_by_language_v2": "dbt_marts",
    "marts/scorer_coverage": "dbt_marts", "marts/served_models": "dbt_marts",
    "marts/content_versions": "dbt_marts", "marts/wording_sensitivity": "dbt_marts",
    "reference/hofstede_power_distance": "dbt_seeds", "backfire_report": "analysis",
    "raw/scorer_validation": "scoring", "raw/scorer_register_errors": "scoring",
    "staging/stg_scorer_validation": "dbt_staging", "staging/stg_scorer_register_errors": "dbt_staging",
    "marts/scorer_validation": "dbt_marts", "marts/scorer_register_errors": "dbt_marts",
}


@pytest.fixture(scope="module")
def defs():
    from orchestration.dbt.project import ensure_manifest

    ensure_manifest()
    from orchestration.definitions import defs

    return defs


def test_asset_keys_and_groups(defs) -> None:
    graph = defs.resolve_asset_graph()
    groups = {key.to_user_string(): graph.get(key).group_name for key in graph.get_all_asset_keys()}
    assert groups == EXPECTED_KEYS


def test_every_python_stage_has_a_blocking_contract_check_and_dbt_tests_are_checks(defs) -> None:
    graph = defs.resolve_asset_graph()
    checks = {(k.asset_key.to_user_string(), k.name) for k in graph.asset_check_keys}
    for asset, name in [("raw/content_packs", "content_packs_contract"), ("raw/runs", "runs_contract"),
                        ("raw/agents", "agents_contract"), ("raw/utterances", "utterances_contract"),
                        ("raw/scores", "scores_contract"), ("marts/run_metrics", "run_metrics_contract"),
                        ("marts/backfire_by_language", "backfire_by_language_contract"),
                        ("marts/served_models", "served_models_contract")]:
        assert (asset, name) in checks
    dbt_checks = {a for a, _ in checks if a.startswith(("staging/", "marts/"))}
    assert {"marts/backfire_by_language", "marts/run_metrics", "staging/stg_utterances"} <= dbt_checks


def test_pipeline_job_and_nightly_schedule(defs) -> None:
    import dagster as dg

    job = defs.resolve_job_def("backfire_pipeline_job")  # raises when it is missing
    languages = defs.resolve_asset_graph().get(dg.AssetKey(["raw", "utterances"])).partitions_def
    assert job.partitions_def.get_partition_keys() == languages.get_partition_keys()  # a run spans a range
    schedule = defs.resolve_schedule_def("nightly_evaluation_schedule")
    assert schedule.cron_schedule == "0 2 * * *"
    assert schedule.job_name == "backfire_pipeline_job"


def test_scorer_validation_runs_only_in_its_own_job(defs) -> None:
    """The gold-set evaluation is not part of a study's runs (nightly or CLI), and its job rebuilds only its marts
    and scorer_coverage."""
    import dagster as dg

    evaluation = dg.AssetKey(["raw", "scorer_validation"])
    graph = defs.resolve_asset_graph()
    for name in ("backfire_pipeline_job", "marts_job", "refresh_marts_job"):
        assert evaluation not in defs.resolve_job_def(name).asset_layer.selected_asset_keys, name
    selected = defs.resolve_job_def("scorer_validation_job").asset_layer.selected_asset_keys
    assert {evaluation, dg.AssetKey(["marts", "scorer_validation"]), dg.AssetKey(["marts", "scorer_coverage"])} \
        <= selected
    assert dg.AssetKey(["marts", "run_metrics"]) not in selected and selected <= graph.get_all_asset_keys()


def test_the_nightly_marts_have_freshness_checks_and_a_sensor(defs) -> None:
    graph = defs.resolve_asset_graph()
    fresh = {k.asset_key.to_user_string() for k in graph.asset_check_keys if "freshness" in k.name}
    assert {"marts/backfire_by_language", "marts/backfire_drift"} <= fresh
    sensor = defs.resolve_sensor_def("freshness_checks_sensor")  # raises when it is missing
    assert sensor.asset_selection.resolve_checks(graph) == {k for k in graph.asset_check_keys if "freshness" in k.name}


def test_nightly_schedule_dates_the_evaluation(defs) -> None:
    import datetime as dt

    import dagster as dg

    schedule = defs.resolve_schedule_def("nightly_evaluation_schedule")
    context = dg.build_schedule_context(scheduled_execution_time=dt.datetime(2026, 11, 27, 2, tzinfo=dt.UTC))
    request = schedule.evaluate_tick(context).run_requests[0]
    config = request.run_config["resources"]["study"]["config"]
    assert config["evaluation_date"] == "2026-11-27" and config["study_path"].endswith("studies/nightly.yaml")


def test_the_pipeline_retries_from_failure_on_an_instance_that_enables_retries(defs) -> None:
    from pathlib import Path

    import yaml

    job = defs.resolve_job_def("backfire_pipeline_job")
    assert job.tags["dagster/max_retries"] == "2" and job.tags["dagster/retry_strategy"] == "FROM_FAILURE"
    instance = yaml.safe_load((Path(__file__).resolve().parents[2] / "deploy" / "dagster.yaml").read_text())
    assert instance["run_retries"]["enabled"] and instance["concurrency"]["pools"]["default_limit"] == 1


def test_every_asset_has_a_description_owners_and_a_code_reference(defs) -> None:
    graph = defs.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        if key.path[0] == "main":  # dbt sources: tables written by the Python assets
            continue
        assert node.description, key
        assert node.owners == ["team:alignment-backfire"], key
        assert "dagster/code_references" in (node.metadata or {}), key


def test_a_contract_warning_fails_its_check_at_warn_severity_and_blocks_nothing(defs) -> None:
    import dagster as dg

    from data_contracts._gx import ContractResult
    from orchestration.checks.contracts import MART_CHECKS, _to_check_result

    warned = _to_check_result(ContractResult("marts", "served_models", 3, warnings=["served another model"]))
    assert not warned.passed and warned.severity == dg.AssetCheckSeverity.WARN
    failed = _to_check_result(ContractResult("marts", "served_models", 3, failures=["bad"], warnings=["w"]))
    assert not failed.passed and failed.severity == dg.AssetCheckSeverity.ERROR
    assert _to_check_result(ContractResult("marts", "served_models", 3)).passed
    blocking = {spec.name: spec.blocking for check in MART_CHECKS for spec in check.check_specs}
    assert blocking == {"run_metrics_contract": True, "backfire_by_language_contract": True,
                        "served_models_contract": False}


def test_export_bundle_job_is_launched_on_its_own_and_reports_the_manifest(defs, tmp_path) -> None:
    """No pipeline job selects the bundle export; run alone, its op writes the bundle and its metadata."""
    import dagster as dg
    import duckdb

    from core.study import parse_study
    from simulation.stages import record_content, record_design, simulate_study
    from tests.test_helpers.studies import small_study_dict
    from warehouse.schema import ensure_raw_schema

    job = defs.resolve_job_def("export_bundle_job")
    assert [node.name for node in job.nodes] == ["export_bundle"]
    assert all("export_bundle" not in [n.name for n in defs.resolve_job_def(name).nodes]
               for name in ("backfire_pipeline_job", "marts_job"))
    db = tmp_path / "w.duckdb"
    study = parse_study({**small_study_dict(languages=["en"], n_agents=4, n_turns=1, replicates=1), "name": "one"},
                        "test")
    with duckdb.connect(str(db)) as con:
        ensure_raw_schema(con)
        record_content(con, study)
        record_design(con, study)
        simulate_study(con, study)
    result = job.execute_in_process(
        run_config={"ops": {"export_bundle": {"config": {"study": "one", "out_dir": str(tmp_path / "bundle")}}},
                    "resources": {"warehouse": {"config": {"db_path": str(db)}}}},
        instance=dg.DagsterInstance.ephemeral())
    assert result.success
    events = [e for e in result.all_events if e.event_type_value == "STEP_OUTPUT"]
    recorded = events[0].event_specific_data.metadata
    assert recorded["study"].value == "one" and recorded["runs"].value == 2
    assert (tmp_path / "bundle" / "manifest.json").is_file()
