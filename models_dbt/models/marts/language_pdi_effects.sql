-- Each language's effect of alignment (Hedges' g of CPI and of DI) next to its Power Distance Index.
with

effects as (
    select study, language, model, evaluation_date, synthetic, 'cpi' as metric, hedges_g, direction, metric_spec
    from {{ ref('backfire_by_language') }}
    union all
    select study, language, model, evaluation_date, synthetic, 'di' as metric, hedges_g, direction, metric_spec
    from {{ ref('dissociation_by_language') }}
),

pdi as (
    select * from {{ ref('language_pdi') }}
),

final as (
    select
        effects.study,
        effects.language,
        effects.model,
        effects.evaluation_date,
        effects.metric,
        effects.hedges_g,
        effects.direction,
        pdi.pdi,
        pdi.country,
        effects.synthetic,
        effects.metric_spec
    from effects
    left join pdi on pdi.language = effects.language
)

select * from final
order by study, model, evaluation_date, metric, language
