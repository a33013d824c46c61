-- One row per run: z-scores of the three measures under each reference population (language, study, baseline),
-- CPI and DI (metric v1) under each and under the study's zscore_reference, and the v2 z-scores, CPI v2 and DI v2
-- over the configured population's runs with model scores.
with

runs as (
    select * from {{ ref('int_runs_measured') }}
),

{{ composite_indices('runs') }},

{{ composite_indices_v2('indexed') }}

select * from indexed_v2
