-- One row per (run_id, agent_idx) of a complete run: agent-level z-scores within the study's reference population, CPI and DI.
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
        {{ reference_population('runs.study', 'runs.language', 'runs.evaluation_date', 'runs.synthetic',
                                'runs.zscore_reference') }} as reference_population
    from agents
    inner join runs using (run_id)
    where agents.n_replies > 0
),

zscored as (
    select
        *,
        {{ zscore('monologue_ratio', 'reference_population') }} as z_monologue_ratio,
        {{ zscore('pathology_rate', 'reference_population') }} as z_pathology_rate,
        {{ zscore('protective_rate', 'reference_population') }} as z_protective_rate
    from joined
),

final as (
    select
        *,
        z_monologue_ratio + z_pathology_rate - z_protective_rate as cpi,
        z_monologue_ratio + z_protective_rate - z_pathology_rate as di
    from zscored
)

select * from final
