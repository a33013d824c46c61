with

calls as (
    select * from {{ ref('int_calls') }}
),

final as (
    select
        run_id,
        agent_idx,
        any_value(study) as study,
        any_value(language) as language,
        any_value(model) as model,
        any_value(aligned) as aligned,
        any_value(individuated) as individuated,
        sum(calls) as calls,
        count(*) filter (where status = 'error') as errors,
        count(*) filter (where status = 'parse_error') as parse_errors,
        sum(reasks) as reasks,
        count(*) filter (where cache_hit) as cache_hits,
        sum(tokens_in) as tokens_in,
        sum(tokens_out) as tokens_out,
        avg(latency_ms) as mean_latency_ms,
        sum(cost_usd) as cost_usd
    from calls
    group by run_id, agent_idx
)

select * from final
