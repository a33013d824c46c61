-- Each published figure next to the same quantity here (real runs only), joined on the study's
-- replication_target, and, for synthetic runs, each planted direction next to the recovered one: synthetic data
-- is scored against the truth it was built from, never against the paper. Every row states its rule in words
-- (rule) and its verdict: agrees / disagrees / not_computed (the comparison needs a CI or a model we do not
-- have) / no_data (no complete runs of a study with this replication target).
-- Directions and counts read the multiplicity-adjusted p (backfire_by_language.direction). Study 3 and the
-- Japanese register figures are ratios of sums over runs with run-clustered 95% CIs (runs, not agents, are
-- the independent units): R = sum(y) / sum(x), se = sqrt(sum((y_i - R x_i)^2) / (n (n - 1))) / mean(x),
-- CI = R +/- t(0.975, n - 1) se; the individuated-agent DI difference is the mean over individuation runs of
-- (mean DI of the run's individuated agents - mean DI of its other agents), CI from t over runs.
with

published as (
    select * from {{ ref('published_results') }}
),

targets as (
    select study, any_value(replication_target) as replication_target, any_value(alpha) as alpha,
           any_value(p_adjust) as p_adjust
    from {{ ref('stg_runs') }}
    group by study
),

cpi as (
    select * from {{ ref('backfire_by_language') }}
),

di as (
    select * from {{ ref('dissociation_by_language') }}
),

register_runs as (
    -- per complete run: the register-marked protective hits of its agents
    select
        runs.study, runs.model, runs.evaluation_date, runs.language, runs.aligned_share, runs.individuation,
        runs.run_id,
        sum(agents.conformity_hits) as conformity_hits,
        sum(agents.individuation_hits) as individuation_hits
    from {{ ref('run_metrics') }} as runs
    inner join {{ ref('int_agents_measured') }} as agents using (run_id)
    where not runs.synthetic
    group by all
),

ratio_inputs as (
    select study, model, evaluation_date, 'conformity_share' as quantity, run_id,
           conformity_hits as y, conformity_hits + individuation_hits as x
    from register_runs where individuation
    union all
    select study, model, evaluation_date, 'ja_conformity_share', run_id,
           conformity_hits, conformity_hits + individuation_hits
    from register_runs where language = 'ja' and not individuation
    union all
    select study, model, evaluation_date, 'ja_conformity_ratio_aligned', run_id, conformity_hits, individuation_hits
    from register_runs where language = 'ja' and not individuation and aligned_share = 1
    union all
    select study, model, evaluation_date, 'ja_conformity_ratio_unaligned', run_id, conformity_hits,
           individuation_hits
    from register_runs where language = 'ja' and not individuation and aligned_share = 0
),

ratio_points as (
    select study, model, evaluation_date, quantity, count(*) as n_runs, avg(x) as mean_x,
           sum(y) / nullif(sum(x), 0) as ratio
    from ratio_inputs
    group by all
),

ratios as (
    select
        points.study, points.model, points.evaluation_date, points.quantity, points.ratio, points.n_runs,
        case when points.n_runs >= 2 and points.mean_x > 0 then
            sqrt(sum((inputs.y - points.ratio * inputs.x) ^ 2) / (points.n_runs * (points.n_runs - 1)))
                / points.mean_x
        end as std_error
    from ratio_points as points
    inner join ratio_inputs as inputs
        on inputs.study = points.study
        and inputs.model = points.model
        and inputs.evaluation_date is not distinct from points.evaluation_date
        and inputs.quantity = points.quantity
    group by points.study, points.model, points.evaluation_date, points.quantity, points.ratio, points.n_runs,
        points.mean_x
),

individuated_runs as (
    select
        study, model, evaluation_date, run_id,
        avg(di) filter (where individuated) - avg(di) filter (where not individuated) as di_difference
    from {{ ref('agent_metrics') }}
    where individuation and not synthetic
    group by all
),

individuated_di as (
    select study, model, evaluation_date, count(di_difference) as n_runs, avg(di_difference) as mean_difference,
           stddev_samp(di_difference) / sqrt(count(di_difference)) as std_error
    from individuated_runs
    group by all
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
    select study, model, evaluation_date, null, 'individuated_di', mean_difference, 'over ' || n_runs || ' runs',
           mean_difference - t_quantile(0.975, n_runs - 1) * std_error,
           mean_difference + t_quantile(0.975, n_runs - 1) * std_error
    from individuated_di
    union all
    select study, model, evaluation_date, case when quantity like 'ja\_%' escape '\' then 'ja' end, quantity,
           ratio, 'over ' || n_runs || ' runs',
           ratio - t_quantile(0.975, n_runs - 1) * std_error,
           ratio + t_quantile(0.975, n_runs - 1) * std_error
    from ratios
    union all
    select distinct study, null, evaluation_date, language, 'language_direction', null, language_direction,
           null, null
    from {{ ref('model_consistency') }} where not synthetic
),

ours_targeted as (
    select ours.*, targets.replication_target, targets.alpha, targets.p_adjust
    from ours
    inner join targets using (study)
    where targets.replication_target is not null
),

published_rows as (
    select
        'published' as reference,
        ours.study,
        published.study as replication_target,
        published.figure_id,
        published.claim,
        coalesce(published.language, ours.language) as language,
        ours.model,
        ours.evaluation_date,
        published.comparison,
        published.published_value,
        published.published_text,
        published.published_p,
        published.secondary,
        ours.quantity is not null as has_data,
        ours.our_value,
        ours.our_text,
        ours.our_ci_low,
        ours.our_ci_high,
        false as synthetic,
        case published.comparison
            when 'sign_and_ci' then 'agrees when our estimate has the sign of ' || published.published_value
                || ' and our 95% CI covers it (not_computed without a CI)'
            when 'ci_covers' then 'agrees when our run-clustered 95% CI covers ' || published.published_value
                || ' (not_computed without a CI)'
            when 'equal' then 'agrees when our count equals ' || cast(published.published_value as integer)
                || ' (directions on ' || coalesce(ours.p_adjust, 'holm') || '-adjusted p < '
                || coalesce(ours.alpha, 0.05) || ', within the study x metric family)'
            when 'at_least' then 'agrees when our estimate is at least ' || published.published_value
                || ' (ratio of sums over individuation runs)'
            when 'category' then 'agrees when our label is ' || published.published_text
                || case when published.published_text = 'model-specific'
                    then ': at least one model amplified (adjusted p < alpha) and a model x alignment '
                        || 'interaction with p < alpha (marts.model_consistency)'
                    else ': every model of the study has that direction (adjusted p < alpha)' end
            when 'not_computed' then 'not compared'
        end as rule,
        case
            when published.comparison = 'not_computed' then 'not compared: the paper does not give its model '
                || 'precisely enough to compute the same beta (our models are in marts.stats_models)'
            when ours.quantity is null then 'no complete real (non-synthetic) runs of a study whose '
                || 'replication_target is ' || published.study
            when published.secondary then 'secondary coverage of the paper, not the paper itself'
        end as note
    from published
    left join ours_targeted as ours
        on ours.replication_target = published.study
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
        null as replication_target,
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
        false as secondary,
        true as has_data,
        effects.hedges_g as our_value,
        effects.direction as our_text,
        effects.g_ci_low as our_ci_low,
        effects.g_ci_high as our_ci_high,
        true as synthetic,
        'agrees when the recovered direction (' || effects.p_adjust_method || '-adjusted p) is the planted one'
            as rule,
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

judged as (
    select
        *,
        case when comparison = 'sign_and_ci' and our_value is not null
            then sign(our_value) = sign(published_value) end as agrees_in_sign,
        case when comparison in ('sign_and_ci', 'ci_covers') and our_ci_low is not null
            then published_value between our_ci_low and our_ci_high end as ci_covers_published,
        case comparison
            when 'sign_and_ci' then
                case when our_value is not null and our_ci_low is not null
                    then sign(our_value) = sign(published_value) and published_value between our_ci_low and our_ci_high
                end
            when 'ci_covers' then
                case when our_ci_low is not null then published_value between our_ci_low and our_ci_high end
            when 'equal' then case when our_value is not null then our_value = published_value end
            when 'at_least' then case when our_value is not null then our_value >= published_value end
            when 'category' then case when our_text is not null then our_text = published_text end
        end as agrees
    from compared
),

final as (
    select
        reference, study, replication_target, figure_id, claim, language, model, evaluation_date, comparison,
        published_value, published_text, published_p, secondary, our_value, our_text, our_ci_low, our_ci_high,
        agrees_in_sign, ci_covers_published, agrees,
        case
            when not has_data then 'no_data'
            when agrees then 'agrees'
            when not agrees then 'disagrees'
            else 'not_computed'
        end as verdict,
        rule, synthetic, note
    from judged
)

select * from final
order by reference, study, figure_id, model, evaluation_date
