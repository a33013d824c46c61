-- One row per (scorer, scorer_version, model_id, language, split, gold_hash): the differential error check. The
-- label error rate on the registers aligned agents use more (negated markers, quotes and echoes, hedged refusals,
-- condemning by quoting) against the rest, the difference with its Newcombe 95% CI, and flagged when
-- |difference| > margin. language 'all' pools every evaluated language. is_latest as in scorer_validation.
with

register_errors as (
    select * from {{ ref('stg_scorer_register_errors') }}
),

final as (
    select
        register_errors.*,
        -- the latest evaluation of each (scorer, version, model_id, split, language)
        register_errors.evaluated_at = max(evaluated_at) over (partition by scorer, scorer_version, model_id, split, language) as is_latest
    from register_errors
)

select * from final
order by scorer, scorer_version, model_id, split, language
