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
        {{ usage_aggregates() }},
        quantile_cont(latency_ms, 0.95) as p95_latency_ms
    from calls
    group by run_id
)

select * from final
