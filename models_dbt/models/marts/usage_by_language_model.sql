with

calls as (
    select * from {{ ref('int_calls') }}
),

final as (
    select
        study,
        language,
        model,
        evaluation_date,
        any_value(backend) as backend,
        synthetic,
        count(distinct run_id) as runs,
        sum(calls) as calls,
        count(*) filter (where status = 'error') as errors,
        count(*) filter (where status = 'error') / count(*) as error_share,
        count(*) filter (where status = 'parse_error') as parse_errors,
        count(*) filter (where status = 'refused') as refusals,
        sum(reasks) as reasks,
        count(*) filter (where cache_hit) as cache_hits,
        sum(tokens_in) as tokens_in,
        sum(tokens_out) as tokens_out,
        avg(latency_ms) as mean_latency_ms,
        quantile_cont(latency_ms, 0.5) as p50_latency_ms,
        quantile_cont(latency_ms, 0.95) as p95_latency_ms,
        sum(cost_usd) as cost_usd,
        sum(cost_usd) / count(distinct run_id) as cost_per_run_usd
    from calls
    group by study, language, model, evaluation_date, synthetic
)

select * from final
