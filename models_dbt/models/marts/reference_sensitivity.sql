-- How much the z reference decides the answer: per (study, language, model, evaluation_date, synthetic) and
-- metric (cpi, di), g, its 95% CI, the adjusted p and the direction under each reference population
-- (language, study, baseline; macros/reference_population.sql) side by side. direction_depends_on_reference is
-- true where the references do not all give the same direction: read that language's result as a property of
-- the analysis choice, not of the data alone. The paper's own choice is unknown (docs/metrics.md).
{% set references = ['language', 'study', 'baseline'] %}
with

effects as (
    select * from {{ ref('int_alignment_effects') }}
    where metric in ('cpi', 'di')
),

final as (
    select
        study,
        language,
        model,
        evaluation_date,
        metric,
        any_value(zscore_reference) as configured_reference,
        {%- for reference in references %}
        any_value(hedges_g) filter (where reference = '{{ reference }}') as g_{{ reference }},
        any_value(g_ci_low) filter (where reference = '{{ reference }}') as g_ci_low_{{ reference }},
        any_value(g_ci_high) filter (where reference = '{{ reference }}') as g_ci_high_{{ reference }},
        any_value(p_adjusted) filter (where reference = '{{ reference }}') as p_adjusted_{{ reference }},
        any_value(direction) filter (where reference = '{{ reference }}') as direction_{{ reference }},
        {%- endfor %}
        count(distinct direction) > 1 as direction_depends_on_reference,
        any_value(p_adjust_method) as p_adjust_method,
        synthetic
    from effects
    group by study, language, model, evaluation_date, synthetic, metric
)

select * from final
order by study, language, model, evaluation_date, metric
