-- One row per utterance, with its study's exclusion rule (analysis.exclude_statuses, recorded in raw.studies)
-- and whether the rule keeps it out of the metrics. Every measure reads its utterances from here, so one rule
-- applies to every arm; excluded utterances stay stored and counted (int_runs_exclusions_counted).
with

utterances as (
    select * from {{ ref('stg_utterances') }}
),

runs as (
    select run_id, exclude_statuses, metric_spec from {{ ref('stg_runs') }}
),

final as (
    select
        utterances.*,
        runs.exclude_statuses,
        runs.metric_spec,
        list_contains(runs.exclude_statuses, utterances.status) as is_excluded
    from utterances
    inner join runs using (run_id)
)

select * from final
