-- Nightly history: each dated evaluation of a (study, language, model) next to the previous one and to the
-- baseline (the first dated evaluation), with the flags the drift alert acts on.
with

dated as (
    select * from {{ ref('backfire_by_language') }}
    where evaluation_date is not null
),

history as (
    select
        *,
        lag(evaluation_date) over cell as previous_date,
        lag(hedges_g) over cell as previous_g,
        lag(g_ci_low) over cell as previous_ci_low,
        lag(g_ci_high) over cell as previous_ci_high,
        lag(direction) over cell as previous_direction,
        first_value(evaluation_date) over cell as baseline_date,
        first_value(hedges_g) over cell as baseline_g,
        first_value(direction) over cell as baseline_direction
    from dated
    window cell as (partition by study, language, model, synthetic order by evaluation_date)
),

final as (
    select
        study,
        language,
        model,
        evaluation_date,
        hedges_g,
        g_ci_low,
        g_ci_high,
        direction,
        previous_date,
        previous_g,
        previous_ci_low,
        previous_ci_high,
        previous_direction,
        hedges_g - previous_g as delta_g,
        baseline_date,
        baseline_g,
        baseline_direction,
        coalesce(previous_date is not null and direction is distinct from previous_direction, false) as direction_changed,
        coalesce(hedges_g not between previous_ci_low and previous_ci_high, false) as left_previous_ci,
        coalesce(direction = 'amplified' and previous_direction <> 'amplified', false) as became_backfire,
        coalesce(baseline_date is not null and direction is distinct from baseline_direction, false) as differs_from_baseline,
        coalesce(previous_date is not null and direction is distinct from previous_direction, false)
            or coalesce(hedges_g not between previous_ci_low and previous_ci_high, false) as alert,
        synthetic,
        metric_spec
    from history
)

select * from final
order by study, language, model, evaluation_date
