with

calls as (
    select * from {{ ref('int_calls') }}
),

final as (
    select
        run_id,
        any_value(study) as study,
        any_value(language) as language,
        any_value(model) as model,
        any_value(backend) as backend,
        any_value(synthetic) as synthetic,
        sum(calls) as calls,
        count(*) filter (where status = 'error') as errors,
        count(*) filter (where status = 'parse_error') as parse_errors,
        count(*) filter (where status = 'refused') as refusals,
        sum(reasks) as reasks,
        count(*) filter (where cache_hit) as cache_hits,
        sum(tokens_in) as tokens_in,
        sum(tokens_out) as tokens_out,
        avg(latency_ms) as mean_latency_ms,
        quantile_cont(latency_ms, 0.95) as p95_latency_ms,
        sum(cost_usd) as cost_usd
    from calls
    group by run_id
)

select * from final
