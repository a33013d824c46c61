-- One row per (scorer, scorer_version, model_id, language, split, gold_hash, breakdown, category): a scorer against
-- the gold validation set. is_latest marks the latest evaluation of each (scorer, scorer_version, model_id, split,
-- language); f1_warning marks a language whose F1 (breakdown 'overall') is below var('scorer_f1_warning').
with

validation as (
    select * from {{ ref('stg_scorer_validation') }}
),

latest as (
    select
        scorer,
        scorer_version,
        model_id,
        split,
        language,
        max(evaluated_at) as latest_evaluated_at
    from validation
    group by scorer, scorer_version, model_id, split, language
),

final as (
    select
        validation.*,
        validation.evaluated_at = latest.latest_evaluated_at as is_latest,
        case
            when validation.breakdown = 'overall'
                then coalesce(validation.f1 < {{ var('scorer_f1_warning') }}, true)
        end as f1_warning
    from validation
    inner join latest
        on latest.scorer = validation.scorer
        and latest.scorer_version = validation.scorer_version
        and latest.model_id = validation.model_id
        and latest.split = validation.split
        and latest.language = validation.language
)

select * from final
order by scorer, scorer_version, model_id, split, language, breakdown, category
