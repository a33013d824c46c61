-- One row per (scorer, scorer_version, model_id, language, split, gold_hash): the differential error check. The
-- label error rate on the registers aligned agents use more (negated markers, quotes and echoes, hedged refusals,
-- condemning by quoting) against the rest, the difference with its Newcombe 95% CI, and flagged when
-- |difference| > margin. language 'all' pools every evaluated language. is_latest as in scorer_validation.
with

register_errors as (
    select * from {{ ref('stg_scorer_register_errors') }}
),

latest as (
    select
        scorer,
        scorer_version,
        model_id,
        split,
        language,
        max(evaluated_at) as latest_evaluated_at
    from register_errors
    group by scorer, scorer_version, model_id, split, language
),

final as (
    select
        register_errors.*,
        register_errors.evaluated_at = latest.latest_evaluated_at as is_latest
    from register_errors
    inner join latest
        on latest.scorer = register_errors.scorer
        and latest.scorer_version = register_errors.scorer_version
        and latest.model_id = register_errors.model_id
        and latest.split = register_errors.split
        and latest.language = register_errors.language
)

select * from final
order by scorer, scorer_version, model_id, split, language
