-- The effect of alignment on every metric, one row per (study, language, model, evaluation_date, synthetic,
-- metric): CPI and DI under the study's zscore_reference, their three components as measured, CPI v2 and DI v2
-- (int_alignment_effects has the formulas; marts.reference_sensitivity the CPI/DI effects under every
-- reference). Exclusions per arm: n_excluded_low/high = talk replies the study's rule (analysis.exclude_statuses)
-- kept out of the metrics in every complete run of the arm without individuation (runs whose every reply was
-- excluded included), excluded_share_low/high = those over the arm's agent turns; differential_exclusion =
-- |excluded_share_high - excluded_share_low| > analysis.max_exclusion_difference (default 0.05).
with

effects as (
    select * from {{ ref('int_alignment_effects') }}
    where reference = zscore_reference or reference = 'raw'
),

specs as (
    select study, any_value(metric_spec) as metric_spec from {{ ref('stg_runs') }} group by study
),

arms as (
    select distinct study, language, model, evaluation_date, synthetic, low_share, high_share
    from effects
),

exclusions as (
    select
        arms.study, arms.language, arms.model, arms.evaluation_date, arms.synthetic, arms.low_share, arms.high_share,
        cast(sum(counted.n_excluded) filter (where arm_runs.aligned_share = arms.low_share) as bigint)
            as n_excluded_low,
        cast(sum(counted.n_excluded) filter (where arm_runs.aligned_share = arms.high_share) as bigint)
            as n_excluded_high,
        sum(counted.n_excluded) filter (where arm_runs.aligned_share = arms.low_share)
            / sum(counted.n_talk) filter (where arm_runs.aligned_share = arms.low_share) as excluded_share_low,
        sum(counted.n_excluded) filter (where arm_runs.aligned_share = arms.high_share)
            / sum(counted.n_talk) filter (where arm_runs.aligned_share = arms.high_share) as excluded_share_high,
        any_value(arm_runs.max_exclusion_difference) as max_exclusion_difference,
        any_value(array_to_string(arm_runs.exclude_statuses, ',')) as exclude_statuses
    from arms
    inner join {{ ref('stg_runs') }} as arm_runs
        on {{ same_cell('arm_runs', 'arms') }}
        and not arm_runs.individuation
    -- complete runs only
    inner join {{ ref('int_runs_exclusions_counted') }} as counted on counted.run_id = arm_runs.run_id
    group by all
),

final as (
    select
        effects.study,
        effects.language,
        effects.model,
        effects.evaluation_date,
        effects.metric,
        effects.zscore_reference,
        effects.low_share,
        effects.high_share,
        effects.n_low,
        effects.n_high,
        effects.mean_low,
        effects.mean_high,
        effects.slope,
        effects.hedges_g,
        effects.g_ci_low,
        effects.g_ci_high,
        effects.p_value,
        effects.p_adjusted,
        effects.p_adjust_method,
        effects.family_size,
        effects.alpha,
        effects.direction,
        effects.direction_unadjusted,
        coalesce(effects.direction = 'amplified', false) as backfire,
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
        effects.synthetic,
        case when effects.metric like '%\_v2' escape '\' then 'v2' else specs.metric_spec end as metric_spec
    from effects
    left join specs on specs.study = effects.study
    left join exclusions
        on {{ same_cell('exclusions', 'effects') }}
        and exclusions.low_share = effects.low_share
        and exclusions.high_share = effects.high_share
)

select * from final
order by study, language, model, evaluation_date, metric
