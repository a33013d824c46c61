-- Study 4: each model's direction per language, and whether the direction holds across the models of the study.
with

effects as (
    select * from {{ ref('backfire_by_language') }}
),

per_language as (
    select
        study, language, evaluation_date, synthetic,
        count(*) as n_models,
        count(*) filter (where direction = 'amplified') as n_amplified,
        count(*) filter (where direction = 'reduced') as n_reduced,
        count(*) filter (where direction = 'null') as n_null
    from effects
    group by all
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
        effects.direction,
        per_language.n_models,
        per_language.n_amplified,
        per_language.n_reduced,
        per_language.n_null,
        case
            when per_language.n_amplified = per_language.n_models then 'amplified'
            when per_language.n_reduced = per_language.n_models then 'reduced'
            when per_language.n_null = per_language.n_models then 'null'
            else 'model-specific'
        end as language_direction,
        per_language.n_models >= 2
            and (per_language.n_amplified = per_language.n_models or per_language.n_reduced = per_language.n_models)
            as direction_holds_across_models,
        effects.synthetic,
        effects.metric_spec
    from effects
    inner join per_language
        on per_language.study = effects.study
        and per_language.language = effects.language
        and per_language.evaluation_date is not distinct from effects.evaluation_date
        and per_language.synthetic = effects.synthetic
)

select * from final
order by study, language, model, evaluation_date
