-- One row per complete run (every agent's talk stored for every turn) of its cell's current pack content: its agent turns (talk rows, one per turn
-- reply), and how many the study's exclusion rule keeps out of the metrics (errors included when the rule
-- lists them). Runs whose every reply is excluded are here too, so the effect tables count their exclusions.
with

talk as (
    select * from {{ ref('int_utterances_exclusion_flagged') }}
    where channel = 'talk'
),

runs as (
    select * from {{ ref('stg_runs') }}
),

counted as (
    select
        run_id,
        count(*) as n_talk,
        count(*) filter (where status = 'error') as n_errors,
        count(*) filter (where is_excluded) as n_excluded
    from talk
    group by run_id
),

final as (
    select
        counted.run_id,
        counted.n_talk,
        counted.n_errors,
        counted.n_excluded
    from counted
    inner join runs using (run_id)
    where counted.n_talk = runs.n_agents * runs.n_turns
        and runs.is_current_content
)

select * from final
