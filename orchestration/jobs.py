"""Jobs: the whole pipeline (one run, any range of language partitions) and its three stages, which the CLI
runs in turn so that each language materializes, fails and retries on its own."""

from __future__ import annotations

import dagster as dg

from orchestration.assets.scoring import SCORES
from orchestration.assets.simulation import UTTERANCES
from orchestration.assets.statistics import STATS_MODELS
from orchestration.assets.validation import SCORER_REGISTER_ERRORS, SCORER_VALIDATION

PIPELINE_JOB = "backfire_pipeline_job"
SETUP_JOB = "study_setup_job"
LANGUAGE_JOB = "simulate_language_job"
MARTS_JOB = "marts_job"
RESCORE_JOB = "rescore_job"
REFRESH_MARTS_JOB = "refresh_marts_job"
SCORER_VALIDATION_JOB = "scorer_validation_job"

_LANGUAGE_ASSETS = dg.AssetSelection.assets(UTTERANCES, SCORES)
_SETUP_ASSETS = dg.AssetSelection.groups("content", "design")
# Scorer validation reads the gold files, not a study: its own job, never part of a study's runs.
_VALIDATION_ASSETS = dg.AssetSelection.assets(SCORER_VALIDATION, SCORER_REGISTER_ERRORS)
# A failed run restarts at its failed step once run_retries is on (deploy/dagster.yaml); the simulation
# resumes where it stopped and replays answered calls from the cache, so a retry re-pays nothing.
_RETRY_TAGS = {"dagster/max_retries": "2", "dagster/retry_strategy": "FROM_FAILURE"}

backfire_pipeline_job = dg.define_asset_job(
    name=PIPELINE_JOB, selection=dg.AssetSelection.all() - _VALIDATION_ASSETS, tags=_RETRY_TAGS,
    description="Content -> design -> simulation -> scoring -> dbt marts -> report, for the configured study, "
                "in one run over a range of language partitions (the nightly schedule runs every language).")
study_setup_job = dg.define_asset_job(
    name=SETUP_JOB, selection=_SETUP_ASSETS, tags=_RETRY_TAGS,
    description="Validate the study's language packs and write its design (runs and agents).")
simulate_language_job = dg.define_asset_job(
    name=LANGUAGE_JOB, selection=_LANGUAGE_ASSETS, tags=_RETRY_TAGS,
    description="Simulate and score one language partition (backfill several to run languages in parallel).")
marts_job = dg.define_asset_job(
    name=MARTS_JOB, selection=dg.AssetSelection.all() - _SETUP_ASSETS - _LANGUAGE_ASSETS - _VALIDATION_ASSETS,
    description="dbt marts, cross-language statistics, the report and drift alerts from the stored scores.")

rescore_job = dg.define_asset_job(
    name=RESCORE_JOB, selection=dg.AssetSelection.assets(SCORES),
    description="Score one language partition's stored utterances with the scorers in the run config "
                "(`backfire score`), gated by the scores contract; no transcript is played.")
refresh_marts_job = dg.define_asset_job(
    name=REFRESH_MARTS_JOB,
    selection=dg.AssetSelection.groups("dbt_seeds", "dbt_staging", "dbt_intermediate", "dbt_marts")
    | dg.AssetSelection.assets(STATS_MODELS),
    description="Rebuild the dbt marts and the cross-language statistics from what is stored (after a rescore, "
                "or a seed change); no study-specific report.")

scorer_validation_job = dg.define_asset_job(
    name=SCORER_VALIDATION_JOB,
    selection=_VALIDATION_ASSETS | dg.AssetSelection.assets(*(dg.AssetKey(key.split("/")) for key in (
        "staging/stg_scorer_validation", "staging/stg_scorer_register_errors", "marts/scorer_validation",
        "marts/scorer_register_errors", "staging/stg_runs", "staging/stg_utterances", "staging/stg_scores",
        "marts/scorer_coverage"))),
    description="Evaluate scorers on the gold validation set (`backfire scorers evaluate`) and rebuild "
                "marts.scorer_validation, marts.scorer_register_errors and marts.scorer_coverage.")

JOBS = [backfire_pipeline_job, study_setup_job, simulate_language_job, marts_job, rescore_job, refresh_marts_job,
        scorer_validation_job]
