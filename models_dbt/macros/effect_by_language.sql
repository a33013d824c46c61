{#-
    An effect table of one metric (backfire_by_language = CPI, dissociation_by_language = DI, and their v2):
    the metric's row of marts.alignment_effects per (study, language, model, evaluation_date, synthetic), its
    arm means named mean_<metric>_low/high, and beside it the g and 95% CI of each of its components (metric v1:
    monologue_ratio, pathology_rate, protective_rate; CPI + DI = 2 z(monologue_ratio), so the components show
    which of them moved).
-#}
{% macro effect_by_language(metric, components=['monologue_ratio', 'pathology_rate', 'protective_rate']) %}
with

effects as (
    select * from {{ ref('alignment_effects') }}
),

measured as (
    select * from effects where metric = '{{ metric }}'
),

final as (
    select
        measured.study,
        measured.language,
        measured.model,
        measured.evaluation_date,
        measured.low_share,
        measured.high_share,
        measured.n_low,
        measured.n_high,
        measured.mean_low as mean_{{ metric }}_low,
        measured.mean_high as mean_{{ metric }}_high,
        measured.slope,
        measured.hedges_g,
        measured.g_ci_low,
        measured.g_ci_high,
        measured.p_value,
        measured.p_adjusted,
        measured.p_adjust_method,
        measured.family_size,
        measured.direction,
        measured.direction_unadjusted,
        measured.backfire,
        {%- for component in components %}
        {{ component }}.hedges_g as g_{{ component }},
        {{ component }}.g_ci_low as g_{{ component }}_ci_low,
        {{ component }}.g_ci_high as g_{{ component }}_ci_high,
        {%- endfor %}
        measured.n_excluded_low,
        measured.n_excluded_high,
        measured.excluded_share_low,
        measured.excluded_share_high,
        measured.differential_exclusion,
        measured.exclude_statuses,
        measured.zscore_reference,
        measured.synthetic,
        measured.metric_spec
    from measured
    {%- for component in components %}
    left join effects as {{ component }}
        on {{ same_cell(component, 'measured') }}
        and {{ component }}.metric = '{{ component }}'
    {%- endfor %}
)

select * from final
order by study, language, model, evaluation_date

{% endmacro %}
