-- Each published figure next to ours (real runs only), and, for synthetic runs, each planted direction next to
-- the recovered one: synthetic data is scored against the truth it was built from, never against the paper.
with

published as (
    select * from {{ ref('published_results') }}
),

cpi as (
    select * from {{ ref('backfire_by_language') }}
),

di as (
    select * from {{ ref('dissociation_by_language') }}
),

individuation_agents as (
    select * from {{ ref('agent_metrics') }}
    where individuation and not synthetic
),

individuation_arms as (
    select
        study, model, evaluation_date,
        {{ arm_statistics('di', 'individuated', 'other', 'individuated') }}
    from individuation_agents
    group by all
),

individuation_g as (
    select
        *,
        {{ hedges_g('n_other', 'mean_other', 'n_individuated', 'mean_individuated',
                    pooled_sd('n_other', 'var_other', 'n_individuated', 'var_individuated')) }} as g
    from individuation_arms
),

ours as (
    select study, model, evaluation_date, language, 'cpi_g' as quantity, hedges_g as our_value,
           direction as our_text, g_ci_low as our_ci_low, g_ci_high as our_ci_high
    from cpi where not synthetic
    union all
    select study, model, evaluation_date, null, 'n_languages_cpi_amplified',
           count(*) filter (where direction = 'amplified'), 'of ' || count(*) || ' languages', null, null
    from cpi where not synthetic group by all
    union all
    select study, model, evaluation_date, null, 'n_languages_di_rises',
           count(*) filter (where direction = 'amplified'), 'of ' || count(*) || ' languages', null, null
    from di where not synthetic group by all
    union all
    select study, model, evaluation_date, null, 'pdi_r_cpi', pearson_r, null, r_ci_low, r_ci_high
    from {{ ref('pdi_correlation') }} where not synthetic and metric = 'cpi'
    union all
    select study, model, evaluation_date, null, 'individuated_di_g', g, null,
           g - {{ g_half_width('g', 'n_other', 'n_individuated') }},
           g + {{ g_half_width('g', 'n_other', 'n_individuated') }}
    from individuation_g
    union all
    select study, model, evaluation_date, null, 'conformity_share', avg(conformity_share), null, null, null
    from {{ ref('agent_metrics') }} where not synthetic group by all
    union all
    select distinct study, null, evaluation_date, language, 'language_direction', null, language_direction, null, null
    from {{ ref('model_consistency') }} where not synthetic
),

published_rows as (
    select
        'published' as reference,
        published.study,
        published.figure_id,
        published.claim,
        coalesce(published.language, ours.language) as language,
        ours.model,
        ours.evaluation_date,
        published.comparison,
        published.published_value,
        published.published_text,
        published.published_p,
        ours.our_value,
        ours.our_text,
        ours.our_ci_low,
        ours.our_ci_high,
        false as synthetic,
        case
            when published.comparison = 'not_computed' then 'not compared: the paper does not give its model '
                || 'precisely enough to compute the same beta; our mixed model is in marts.stats_models'
            when ours.quantity is null then 'no complete real (non-synthetic) runs of this study in the warehouse'
        end as note
    from published
    left join ours
        on ours.study = published.study
        and ours.quantity = published.quantity
        and (published.language is null or ours.language = published.language)
),

planted as (
    select study, language, model, evaluation_date,
           any_value(planted_cpi_direction) as planted_cpi_direction,
           any_value(planted_di_direction) as planted_di_direction
    from {{ ref('stg_runs') }}
    where synthetic
    group by all
),

planted_rows as (
    select
        'planted' as reference,
        effects.study,
        effects.study || ':' || effects.metric || ':' || effects.language || ':' || effects.model as figure_id,
        'synthetic data: the ' || upper(effects.metric) || ' direction planted for ' || effects.language
            || ' is recovered' as claim,
        effects.language,
        effects.model,
        effects.evaluation_date,
        'category' as comparison,
        null::double as published_value,
        case effects.metric when 'cpi' then planted.planted_cpi_direction else planted.planted_di_direction end
            as published_text,
        null as published_p,
        effects.hedges_g as our_value,
        effects.direction as our_text,
        effects.g_ci_low as our_ci_low,
        effects.g_ci_high as our_ci_high,
        true as synthetic,
        'synthetic data: compared with the planted truth (simulation/backends/synthetic_effects.yaml), '
            || 'not with the paper' as note
    from (
        select *, 'cpi' as metric from cpi where synthetic
        union all by name
        select *, 'di' as metric from di where synthetic
    ) as effects
    left join planted
        on planted.study = effects.study
        and planted.language = effects.language
        and planted.model = effects.model
        and planted.evaluation_date is not distinct from effects.evaluation_date
),

compared as (
    select * from published_rows
    union all
    select * from planted_rows
),

final as (
    select
        *,
        case when comparison = 'sign_and_ci' and our_value is not null
            then sign(our_value) = sign(published_value) end as agrees_in_sign,
        case when comparison = 'sign_and_ci' and our_ci_low is not null
            then published_value between our_ci_low and our_ci_high end as ci_covers_published,
        case comparison
            when 'sign_and_ci' then
                case when our_value is not null then sign(our_value) = sign(published_value)
                    and coalesce(published_value between our_ci_low and our_ci_high, true) end
            when 'equal' then case when our_value is not null then our_value = published_value end
            when 'at_least' then case when our_value is not null then our_value >= published_value end
            when 'category' then case when our_text is not null then our_text = published_text end
        end as agrees
    from compared
)

select * from final
order by reference, study, figure_id, model, evaluation_date
