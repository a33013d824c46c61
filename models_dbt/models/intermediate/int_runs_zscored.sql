-- One row per run: z-scores of the three measures within the study's reference population, CPI and DI.
with

runs as (
    select
        *,
        {{ reference_population('study', 'language', 'evaluation_date', 'synthetic', 'zscore_reference') }}
            as reference_population
    from {{ ref('int_runs_measured') }}
),

{{ composite_indices('runs') }}

select * from indexed
