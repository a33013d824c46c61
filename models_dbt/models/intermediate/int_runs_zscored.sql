-- One row per run: z-scores of the three measures within the study's reference population, CPI and DI.
with

runs as (
    select
        *,
        {{ reference_population('study', 'language', 'evaluation_date', 'synthetic', 'zscore_reference') }}
            as reference_population
    from {{ ref('int_runs_measured') }}
),

zscored as (
    select
        *,
        {{ zscore('monologue_ratio', 'reference_population') }} as z_monologue_ratio,
        {{ zscore('pathology_rate', 'reference_population') }} as z_pathology_rate,
        {{ zscore('protective_rate', 'reference_population') }} as z_protective_rate
    from runs
),

final as (
    select
        *,
        z_monologue_ratio + z_pathology_rate - z_protective_rate as cpi,
        z_monologue_ratio + z_protective_rate - z_pathology_rate as di
    from zscored
)

select * from final
