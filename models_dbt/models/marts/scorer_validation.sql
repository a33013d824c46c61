-- One row per (scorer, scorer_version, model_id, language, split, gold_hash, breakdown, category): a scorer against
-- the gold validation set. is_latest marks the latest evaluation of each (scorer, scorer_version, model_id, split,
-- language); f1_warning marks a language whose F1 (breakdown 'overall') is below var('scorer_f1_warning').
with

validation as (
    select * from {{ ref('stg_scorer_validation') }}
),

final as (
    select
        validation.*,
        -- the latest evaluation of each (scorer, version, model_id, split, language)
        validation.evaluated_at = max(evaluated_at) over (partition by scorer, scorer_version, model_id, split, language) as is_latest,
        case
            when validation.breakdown = 'overall'
                then coalesce(validation.f1 < {{ var('scorer_f1_warning') }}, true)
        end as f1_warning
    from validation
)

select * from final
order by scorer, scorer_version, model_id, split, language, breakdown, category
