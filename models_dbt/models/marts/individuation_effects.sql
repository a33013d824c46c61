-- Study 3: individuated agents against the other agents of the same individuation runs, per cell and metric.
-- Agents of one run are not independent (they share a conversation): the g and p here treat agents as the
-- unit, as the paper's agent-level comparison does; read the CI as optimistic.
with

agents as (
    select * from {{ ref('agent_metrics') }}
    where individuation
),

specs as (
    select study, any_value(metric_spec) as metric_spec from {{ ref('stg_runs') }} group by study
),

long as (
    select study, language, model, aligned_share, evaluation_date, synthetic, individuated, 'cpi' as metric,
           cpi as value
    from agents
    union all
    select study, language, model, aligned_share, evaluation_date, synthetic, individuated, 'di', di
    from agents
    union all
    select study, language, model, aligned_share, evaluation_date, synthetic, individuated, 'conformity_share',
           conformity_share
    from agents
),

arms as (
    select
        study, language, model, aligned_share, evaluation_date, synthetic, metric,
        {{ arm_statistics('value', 'individuated', 'other', 'individuated') }}
    from long
    group by all
),

effects as (
    select
        *,
        {{ pooled_sd('n_other', 'var_other', 'n_individuated', 'var_individuated') }} as pooled_sd
    from arms
),

tested as (
    select
        *,
        {{ hedges_g('n_other', 'mean_other', 'n_individuated', 'mean_individuated', 'pooled_sd') }} as hedges_g,
        {{ t_statistic('n_other', 'mean_other', 'n_individuated', 'mean_individuated', 'pooled_sd') }} as t_statistic
    from effects
),

final as (
    select
        study,
        language,
        model,
        aligned_share,
        evaluation_date,
        metric,
        n_individuated,
        n_other,
        mean_individuated,
        mean_other,
        hedges_g,
        hedges_g - {{ g_half_width('hedges_g', 'n_other', 'n_individuated') }} as g_ci_low,
        hedges_g + {{ g_half_width('hedges_g', 'n_other', 'n_individuated') }} as g_ci_high,
        t_two_sided_p(t_statistic, n_individuated + n_other - 2) as p_value,
        {{ direction('hedges_g', g_half_width('hedges_g', 'n_other', 'n_individuated')) }} as direction,
        synthetic,
        specs.metric_spec
    from tested
    left join specs using (study)
)

select * from final
order by study, language, model, aligned_share, evaluation_date, metric
