{#-
    Per (study, language, model, evaluation_date, synthetic): the effect of the aligned share on a run-level metric.
    low/high = the lowest/highest aligned share in the cell; g = J (mean_high - mean_low) / pooled sd with
    J = 1 - 3 / (4 (n1 + n2) - 9); CI = g +/- 1.96 sqrt((n1 + n2) / (n1 n2) + g^2 / (2 (n1 + n2)));
    p from the two-sided pooled-variance t test; slope = OLS slope of the metric on aligned_share.
    Only runs without individuation and with a value of the metric enter: individuation is a second treatment,
    analysed on its own, and a run without the metric (no model scores yet, for a v2 metric) makes no cell.
    Exclusions per arm: n_excluded_low/high = talk replies the study's rule (analysis.exclude_statuses)
    kept out of the metrics in every complete run of the arm without individuation (runs whose every reply was
    excluded included: they are missing from run_metrics), excluded_share_low/high = those over the arm's agent
    turns; differential_exclusion = |excluded_share_high - excluded_share_low| > the study's
    analysis.max_exclusion_difference (default 0.05).
    metric_spec: what the rows' metric_spec column says (default: the dbt var metric_spec).
-#}
{% macro effect_by_language(metric, metric_spec=none) %}

with

runs as (
    select * from {{ ref('run_metrics') }}
    where not individuation
        and {{ metric }} is not null
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
        on {{ same_cell('runs', 'cells') }}
    group by all
),

exclusions as (
    select
        cells.study, cells.language, cells.model, cells.evaluation_date, cells.synthetic,
        cast(sum(counted.n_excluded) filter (where arm_runs.aligned_share = cells.low_share) as bigint)
            as n_excluded_low,
        cast(sum(counted.n_excluded) filter (where arm_runs.aligned_share = cells.high_share) as bigint)
            as n_excluded_high,
        sum(counted.n_excluded) filter (where arm_runs.aligned_share = cells.low_share)
            / sum(counted.n_talk) filter (where arm_runs.aligned_share = cells.low_share) as excluded_share_low,
        sum(counted.n_excluded) filter (where arm_runs.aligned_share = cells.high_share)
            / sum(counted.n_talk) filter (where arm_runs.aligned_share = cells.high_share) as excluded_share_high,
        any_value(arm_runs.max_exclusion_difference) as max_exclusion_difference,
        any_value(array_to_string(arm_runs.exclude_statuses, ',')) as exclude_statuses
    from cells
    inner join {{ ref('stg_runs') }} as arm_runs
        on {{ same_cell('arm_runs', 'cells') }}
        and not arm_runs.individuation
    -- complete runs only
    inner join {{ ref('int_runs_exclusions_counted') }} as counted on counted.run_id = arm_runs.run_id
    group by cells.study, cells.language, cells.model, cells.evaluation_date, cells.synthetic
),

pooled as (
    select
        *,
        case when low_share < high_share then {{ pooled_sd('n_low', 'var_low', 'n_high', 'var_high') }} end as pooled_sd
    from arms
),

effects as (
    select
        *,
        {{ hedges_g('n_low', 'mean_low', 'n_high', 'mean_high', 'pooled_sd') }} as hedges_g,
        {{ t_statistic('n_low', 'mean_low', 'n_high', 'mean_high', 'pooled_sd') }} as t_statistic
    from pooled
),

intervals as (
    select
        *,
        {{ g_half_width('hedges_g', 'n_low', 'n_high') }} as g_half_width
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
        {{ direction('intervals.hedges_g', 'intervals.g_half_width') }} as direction,
        coalesce(intervals.hedges_g - intervals.g_half_width > 0, false) as backfire,
        exclusions.n_excluded_low,
        exclusions.n_excluded_high,
        exclusions.excluded_share_low,
        exclusions.excluded_share_high,
        coalesce(
            abs(exclusions.excluded_share_high - exclusions.excluded_share_low)
                > exclusions.max_exclusion_difference,
            false
        ) as differential_exclusion,
        exclusions.exclude_statuses,
        cells.synthetic,
        '{{ metric_spec or var("metric_spec") }}' as metric_spec
    from cells
    inner join intervals
        on {{ same_cell('intervals', 'cells') }}
    left join exclusions
        on {{ same_cell('exclusions', 'cells') }}
)

select * from final
order by study, language, model, evaluation_date

{% endmacro %}
