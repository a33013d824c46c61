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
        {{ usage_aggregates() }},
        count(*) filter (where status = 'error') / count(*) as error_share,
        quantile_cont(latency_ms, 0.5) as p50_latency_ms,
        quantile_cont(latency_ms, 0.95) as p95_latency_ms,
        sum(cost_usd) / count(distinct run_id) as cost_per_run_usd
    from calls
    group by study, language, model, evaluation_date, synthetic
)

select * from final
