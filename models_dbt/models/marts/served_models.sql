-- What the endpoints actually served, per requested model: an alias such as gpt-4o-mini moves to newer snapshots,
-- so a study's results belong to the served model, not the name in the study file.
with

calls as (
    -- failed calls served nothing
    select * from {{ ref('int_calls') }}
    where status <> 'error'
),

served as (
    select
        study,
        language,
        model,
        backend,
        synthetic,
        requested_model,
        served_model,
        system_fingerprint,
        count(*) as n_calls,
        count(*) filter (where cache_hit) as n_cache_hits,
        min(created_at) as first_seen,
        max(created_at) as last_seen
    from calls
    group by all
),

final as (
    select
        *,
        -- The model id before any @revision: a local model is served as id@commit. NULL when nothing can be
        -- compared (synthetic runs, replies recorded before the served model was kept).
        case
            when synthetic or served_model is null then null
            else split_part(served_model, '@', 1) = split_part(requested_model, '@', 1)
        end as served_as_requested
    from served
)

select * from final
