-- Study 4: each model's CPI direction per language (on the adjusted p), the model x alignment interaction of the
-- language (run-level CPI of every model and aligned share, runs without individuation), and whether the
-- direction holds across the models of the study.
-- Interaction: F test of separate slopes per model (CPI ~ share x model) against a common slope with a
-- per-model intercept (CPI ~ share + model), from the per-model sums of squares (regr_sxx/sxy/syy):
-- RSS_full = sum(Syy - Sxy^2 / Sxx), RSS_reduced = sum(Syy) - sum(Sxy)^2 / sum(Sxx),
-- F = ((RSS_reduced - RSS_full) / (k - 1)) / (RSS_full / (n - 2k)) over the k models with two or more shares.
-- language_direction: amplified / reduced / null when every model agrees; model-specific when at least one
-- model backfires (amplified) and the interaction is significant (p < the study's alpha); mixed otherwise
-- (the models' labels differ, but without a backfiring model and a significant interaction).
with

effects as (
    select * from {{ ref('backfire_by_language') }}
),

runs as (
    select * from {{ ref('run_metrics') }}
    where not individuation and cpi is not null
),

alphas as (
    select study, any_value(alpha) as alpha from {{ ref('stg_runs') }} group by study
),

per_model as (
    select
        study, language, evaluation_date, synthetic, model,
        count(*) as n_runs,
        regr_sxx(cpi, aligned_share) as sxx,
        regr_sxy(cpi, aligned_share) as sxy,
        regr_syy(cpi, aligned_share) as syy
    from runs
    group by all
),

sums as (
    select
        study, language, evaluation_date, synthetic,
        count(*) filter (where sxx > 0) as k,
        sum(n_runs) filter (where sxx > 0) as n_runs,
        sum(syy - sxy * sxy / sxx) filter (where sxx > 0) as rss_full,
        sum(syy) filter (where sxx > 0)
            - sum(sxy) filter (where sxx > 0) ^ 2 / sum(sxx) filter (where sxx > 0) as rss_reduced
    from per_model
    group by all
),

interaction as (
    select
        *,
        case when k >= 2 and n_runs > 2 * k and rss_full > 0
            then ((rss_reduced - rss_full) / (k - 1)) / (rss_full / (n_runs - 2 * k)) end as interaction_f,
        k - 1 as interaction_df1,
        n_runs - 2 * k as interaction_df2
    from sums
),

per_language as (
    select
        study, language, evaluation_date, synthetic,
        count(*) as n_models,
        count(*) filter (where direction = 'amplified') as n_amplified,
        count(*) filter (where direction = 'reduced') as n_reduced,
        count(*) filter (where direction = 'none') as n_none,
        count(*) filter (where direction is null) as n_untested
    from effects
    group by all
),

tested as (
    select
        per_language.*,
        interaction.interaction_f,
        case when interaction.interaction_f is not null then interaction.interaction_df1 end as interaction_df1,
        case when interaction.interaction_f is not null then interaction.interaction_df2 end as interaction_df2,
        f_upper_p(interaction.interaction_f, interaction.interaction_df1, interaction.interaction_df2)
            as interaction_p,
        alphas.alpha
    from per_language
    left join interaction
        on interaction.study = per_language.study
        and interaction.language = per_language.language
        and interaction.evaluation_date is not distinct from per_language.evaluation_date
        and interaction.synthetic = per_language.synthetic
    left join alphas on alphas.study = per_language.study
),

final as (
    select
        effects.study,
        effects.language,
        effects.model,
        effects.evaluation_date,
        effects.hedges_g,
        effects.g_ci_low,
        effects.g_ci_high,
        effects.p_value,
        effects.p_adjusted,
        effects.direction,
        tested.n_models,
        tested.n_amplified,
        tested.n_reduced,
        tested.n_none,
        tested.n_untested,
        tested.interaction_f,
        tested.interaction_df1,
        tested.interaction_df2,
        tested.interaction_p,
        case
            when tested.n_amplified = tested.n_models then 'amplified'
            when tested.n_reduced = tested.n_models then 'reduced'
            when tested.n_untested = tested.n_models then null
            when tested.n_none + tested.n_untested = tested.n_models then 'none'
            when tested.n_amplified >= 1 and tested.interaction_p < tested.alpha then 'model-specific'
            else 'mixed'
        end as language_direction,
        tested.n_models >= 2
            and (tested.n_amplified = tested.n_models or tested.n_reduced = tested.n_models)
            as direction_holds_across_models,
        effects.synthetic,
        effects.metric_spec
    from effects
    inner join tested
        on tested.study = effects.study
        and tested.language = effects.language
        and tested.evaluation_date is not distinct from effects.evaluation_date
        and tested.synthetic = effects.synthetic
)

select * from final
order by study, language, model, evaluation_date
