-- Long form of what the effect tables compare: one row per (run without individuation, metric, reference) with
-- the run's value. CPI and DI under each reference population (language, study, baseline); their components
-- (monologue_ratio, pathology_rate, protective_rate; v2: pathology_prob, protective_prob) as measured ('raw': a z-score within a population that
-- contains the whole cell is linear in the measure, so their g is the same under every reference); CPI v2 and
-- DI v2 under the study's own reference. Individuation is a second treatment, analysed on its own.
{% set composites = ['cpi', 'di'] %}
{% set references = ['language', 'study', 'baseline'] %}
{% set components = ['monologue_ratio', 'pathology_rate', 'protective_rate', 'pathology_prob', 'protective_prob'] %}
with

runs as (
    select * from {{ ref('int_runs_zscored') }}
    where not individuation
),

long as (
    {%- for metric in composites %}{% for reference in references %}
    select run_id, '{{ metric }}' as metric, '{{ reference }}' as reference, {{ metric }}_{{ reference }} as value
    from runs
    union all
    {%- endfor %}{% endfor %}
    {%- for metric in components %}
    select run_id, '{{ metric }}', 'raw', {{ metric }} from runs
    union all
    {%- endfor %}
    select run_id, 'cpi_v2', zscore_reference, cpi_v2 from runs
    union all
    select run_id, 'di_v2', zscore_reference, di_v2 from runs
),

final as (
    select
        runs.study,
        runs.language,
        runs.model,
        runs.evaluation_date,
        runs.synthetic,
        runs.run_id,
        runs.aligned_share,
        long.metric,
        long.reference,
        long.value,
        runs.zscore_reference,
        runs.p_adjust,
        runs.alpha
    from long
    inner join runs using (run_id)
    where long.value is not null
)

select * from final
