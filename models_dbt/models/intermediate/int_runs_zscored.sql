-- One row per run: z-scores of the three measures within the study's reference population, CPI and DI (metric
-- v1), and the v2 z-scores, CPI v2 and DI v2 over the population's runs with model scores.
with

runs as (
    select
        *,
        {{ reference_population('study', 'language', 'evaluation_date', 'synthetic', 'zscore_reference') }}
            as reference_population
    from {{ ref('int_runs_measured') }}
),

{{ composite_indices('runs') }},

{{ composite_indices_v2('indexed') }}

select * from indexed_v2
