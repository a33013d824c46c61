-- One row per (run_id, agent_idx) of a complete run: agent-level z-scores under each reference population (over
-- agents: the baseline reference is the agents of the cell's aligned-share-0 runs), CPI and DI (metric v1) under
-- each and under the study's zscore_reference, and the v2 z-scores, CPI v2 and DI v2 over the configured
-- population's agents with model scores.
with

agents as (
    select * from {{ ref('int_agents_measured') }}
),

runs as (
    -- complete runs only, as in run_metrics
    select * from {{ ref('int_runs_measured') }}
),

joined as (
    select
        agents.*,
        runs.study,
        runs.language,
        runs.model,
        runs.aligned_share,
        runs.individuation,
        runs.evaluation_date,
        runs.synthetic,
        runs.zscore_reference,
        runs.exclude_statuses
    from agents
    inner join runs using (run_id)
    where agents.n_replies > 0
),

{{ composite_indices('joined') }},

{{ composite_indices_v2('indexed') }}

select * from indexed_v2
