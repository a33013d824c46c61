{#-
    Per (study, language, model, evaluation_date, synthetic): the effect of the aligned share on a run-level metric.
    low/high = the lowest/highest aligned share in the cell; g = J (mean_high - mean_low) / pooled sd with
    J = 1 - 3 / (4 (n1 + n2) - 9); CI = g +/- 1.96 sqrt((n1 + n2) / (n1 n2) + g^2 / (2 (n1 + n2)));
    p from the two-sided pooled-variance t test; slope = OLS slope of the metric on aligned_share.
    Only runs without individuation enter: individuation is a second treatment, analysed on its own.
-#}
{% macro effect_by_language(metric) %}

with

runs as (
    select * from {{ ref('run_metrics') }}
    where not individuation
),

cells as (
    select
        study, language, model, evaluation_date, synthetic,
        min(aligned_share) as low_share,
        max(aligned_share) as high_share,
        count(*) as n_runs,
        case when max(aligned_share) > min(aligned_share) then regr_slope({{ metric }}, aligned_share) end as slope
    from runs
    group by study, language, model, evaluation_date, synthetic
),

arms as (
    select
        cells.study, cells.language, cells.model, cells.evaluation_date, cells.synthetic,
        cells.low_share, cells.high_share,
        count(runs.{{ metric }}) filter (where runs.aligned_share = cells.low_share) as n_low,
        count(runs.{{ metric }}) filter (where runs.aligned_share = cells.high_share) as n_high,
        avg(runs.{{ metric }}) filter (where runs.aligned_share = cells.low_share) as mean_low,
        avg(runs.{{ metric }}) filter (where runs.aligned_share = cells.high_share) as mean_high,
        var_samp(runs.{{ metric }}) filter (where runs.aligned_share = cells.low_share) as var_low,
        var_samp(runs.{{ metric }}) filter (where runs.aligned_share = cells.high_share) as var_high
    from cells
    inner join runs
        on runs.study = cells.study
        and runs.language = cells.language
        and runs.model = cells.model
        and runs.evaluation_date is not distinct from cells.evaluation_date
        and runs.synthetic = cells.synthetic
    group by all
),

pooled as (
    select
        *,
        case when low_share < high_share and n_low >= 2 and n_high >= 2 then
            nullif(sqrt(((n_high - 1) * var_high + (n_low - 1) * var_low) / (n_high + n_low - 2)), 0)
        end as pooled_sd
    from arms
),

effects as (
    select
        *,
        (1 - 3 / (4 * (n_high + n_low) - 9.0)) * (mean_high - mean_low) / pooled_sd as hedges_g,
        (mean_high - mean_low) / (pooled_sd * sqrt(1.0 / n_high + 1.0 / n_low)) as t_statistic
    from pooled
),

intervals as (
    select
        *,
        1.96 * sqrt((n_high + n_low) / (n_high * n_low * 1.0) + hedges_g ^ 2 / (2.0 * (n_high + n_low))) as g_half_width
    from effects
),

final as (
    select
        cells.study,
        cells.language,
        cells.model,
        cells.evaluation_date,
        cells.low_share,
        cells.high_share,
        intervals.n_low,
        intervals.n_high,
        intervals.mean_low as mean_{{ metric }}_low,
        intervals.mean_high as mean_{{ metric }}_high,
        cells.slope,
        intervals.hedges_g,
        intervals.hedges_g - intervals.g_half_width as g_ci_low,
        intervals.hedges_g + intervals.g_half_width as g_ci_high,
        t_two_sided_p(intervals.t_statistic, intervals.n_high + intervals.n_low - 2) as p_value,
        case
            when intervals.hedges_g - intervals.g_half_width > 0 then 'amplified'
            when intervals.hedges_g + intervals.g_half_width < 0 then 'reduced'
            else 'null'
        end as direction,
        coalesce(intervals.hedges_g - intervals.g_half_width > 0, false) as backfire,
        cells.synthetic,
        '{{ var("metric_spec") }}' as metric_spec
    from cells
    inner join intervals
        on intervals.study = cells.study
        and intervals.language = cells.language
        and intervals.model = cells.model
        and intervals.evaluation_date is not distinct from cells.evaluation_date
        and intervals.synthetic = cells.synthetic
)

select * from final
order by study, language, model, evaluation_date

{% endmacro %}
