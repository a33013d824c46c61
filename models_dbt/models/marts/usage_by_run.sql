with

utterances as (
    select * from {{ ref('stg_utterances') }}
    where channel in ('talk', 'probe')  -- one row per model call; monologue rows carry no accounting
),

runs as (
    select * from {{ ref('stg_runs') }}
),

prices as (
    select * from {{ ref('stg_model_prices') }}
),

per_run as (
    select
        run_id,
        count(*) as calls,
        count(*) filter (where status = 'error') as errors,
        count(*) filter (where status = 'parse_error') as parse_errors,
        count(*) filter (where status = 'refused') as refusals,
        count(*) filter (where cache_hit) as cache_hits,
        coalesce(sum(tokens_in) filter (where not cache_hit), 0) as tokens_in,
        coalesce(sum(tokens_out) filter (where not cache_hit), 0) as tokens_out,
        avg(latency_ms) filter (where not cache_hit and status <> 'error') as mean_latency_ms,
        quantile_cont(latency_ms, 0.95) filter (where not cache_hit and status <> 'error') as p95_latency_ms
    from utterances
    group by run_id
),

final as (
    select
        runs.run_id,
        runs.study,
        runs.language,
        runs.model,
        runs.backend,
        runs.synthetic,
        per_run.calls,
        per_run.errors,
        per_run.parse_errors,
        per_run.refusals,
        per_run.cache_hits,
        per_run.tokens_in,
        per_run.tokens_out,
        per_run.mean_latency_ms,
        per_run.p95_latency_ms,
        (per_run.tokens_in * coalesce(prices.price_per_1k_input_usd, 0)
            + per_run.tokens_out * coalesce(prices.price_per_1k_output_usd, 0)) / 1000 as cost_usd
    from runs
    inner join per_run using (run_id)
    left join prices on prices.study = runs.study and prices.model = runs.model
)

select * from final
