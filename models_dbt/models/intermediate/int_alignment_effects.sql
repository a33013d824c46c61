-- A table, not a view like the other intermediates: it calls the plugin functions (t_two_sided_p), which only
-- dbt's connections have, so a view would fail when read from any other connection.
{{ config(materialized="table") }}

-- One row per (study, language, model, evaluation_date, synthetic, metric, reference): the effect of the aligned
-- share on the metric (docs/metrics.md, Effect tables). low/high = the cell's lowest/highest aligned share;
-- g = Hedges' g (high vs low) with its 95% CI, p from the pooled-variance t test, slope = OLS slope on the share;
-- p_adjusted = p adjusted within the family (study, evaluation_date, synthetic, metric, reference: every language
-- and model of one metric) by the study's analysis.p_adjust; direction = the sign of g where p_adjusted <
-- analysis.alpha, else null; direction_unadjusted the same on the raw p. Exclusion counts per arm as in
-- int_runs_exclusions_counted.
with

inputs as (
    select * from {{ ref('int_runs_effect_inputs') }}
),

cells as (
    select
        study, language, model, evaluation_date, synthetic, metric, reference,
        min(aligned_share) as low_share,
        max(aligned_share) as high_share,
        count(*) as n_runs,
        case when max(aligned_share) > min(aligned_share) then regr_slope(value, aligned_share) end as slope,
        any_value(zscore_reference) as zscore_reference,
        any_value(p_adjust) as p_adjust,
        any_value(alpha) as alpha
    from inputs
    group by study, language, model, evaluation_date, synthetic, metric, reference
),

arms as (
    select
        cells.study, cells.language, cells.model, cells.evaluation_date, cells.synthetic, cells.metric,
        cells.reference,
        {{ arm_statistics('inputs.value', 'inputs.aligned_share = cells.high_share', 'low', 'high') }}
    from cells
    inner join inputs
        on {{ same_cell('inputs', 'cells') }}
        and inputs.metric = cells.metric
        and inputs.reference = cells.reference
        and inputs.aligned_share in (cells.low_share, cells.high_share)
    group by all
),

tested as (
    select
        *,
        {{ hedges_g('n_low', 'mean_low', 'n_high', 'mean_high',
                    pooled_sd('n_low', 'var_low', 'n_high', 'var_high')) }} as hedges_g,
        {{ t_statistic('n_low', 'mean_low', 'n_high', 'mean_high',
                       pooled_sd('n_low', 'var_low', 'n_high', 'var_high')) }} as t_statistic
    from arms
),

intervals as (
    select
        tested.*,
        cells.low_share,
        cells.high_share,
        cells.slope,
        cells.zscore_reference,
        cells.p_adjust,
        cells.alpha,
        {{ g_half_width('tested.hedges_g', 'tested.n_low', 'tested.n_high') }} as g_half_width,
        case when cells.low_share < cells.high_share
            then t_two_sided_p(tested.t_statistic, tested.n_high + tested.n_low - 2) end as p_value
    from tested
    inner join cells
        on {{ same_cell('tested', 'cells') }}
        and tested.metric = cells.metric
        and tested.reference = cells.reference
),

ranked as (
    select
        *,
        {{ p_rank_columns('p_value', 'study, evaluation_date, synthetic, metric, reference') }}
    from intervals
),

adjusted as (
    select
        *,
        {{ adjusted_p('p_value', 'study, evaluation_date, synthetic, metric, reference', 'p_adjust') }} as p_adjusted
    from ranked
),

final as (
    select
        study,
        language,
        model,
        evaluation_date,
        synthetic,
        metric,
        reference,
        zscore_reference,
        low_share,
        high_share,
        n_low,
        n_high,
        mean_low,
        mean_high,
        slope,
        hedges_g,
        hedges_g - g_half_width as g_ci_low,
        hedges_g + g_half_width as g_ci_high,
        p_value,
        p_adjusted,
        p_adjust as p_adjust_method,
        family_size,
        alpha,
        {{ direction_by_p('hedges_g', 'p_adjusted', 'alpha') }} as direction,
        {{ direction_by_p('hedges_g', 'p_value', 'alpha') }} as direction_unadjusted
    from adjusted
)

select * from final
