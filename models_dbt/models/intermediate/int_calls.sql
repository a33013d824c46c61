-- One row per model call group: an agent's turn reply (with its re-asks) or a probe answer, with the run's and
-- the agent's attributes and what the calls cost. Cost is the price recorded when the call was made; rows
-- written before costs were recorded fall back to the study's current prices. Calls of turns a rerun
-- superseded (to retry a failed call) were paid too: they are included, flagged ``superseded``.
with

current_calls as (
    select *, false as superseded from {{ ref('stg_utterances') }}
    where channel in ('talk', 'probe')  -- monologue rows share their talk row's call
),

superseded_calls as (
    select
        utterance_id, run_id, turn, agent_idx, channel, text, status, error, tokens_in, tokens_out, latency_ms,
        cache_hit, coalesce(reasks, 0) as reasks, cost_usd, model, backend, served_model, system_fingerprint,
        created_at, true as superseded
    -- Written by the same stage as raw.utterances (whose asset int_calls already depends on); not a dbt source,
    -- since dagster-dbt maps every source to its own asset key.
    from raw.utterances_superseded
    where channel in ('talk', 'probe')
),

utterances as (
    select * from current_calls
    union all by name
    select * from superseded_calls
),

runs as (
    select * from {{ ref('stg_runs') }}
),

agents as (
    select * from {{ ref('stg_agents') }}
),

prices as (
    select * from {{ ref('stg_model_prices') }}
),

final as (
    select
        utterances.utterance_id,
        utterances.run_id,
        runs.study,
        runs.language,
        runs.model,
        runs.requested_model,
        runs.backend,
        runs.synthetic,
        runs.evaluation_date,
        utterances.agent_idx,
        agents.aligned,
        agents.individuated,
        utterances.turn,
        utterances.channel,
        utterances.superseded,
        utterances.status,
        utterances.cache_hit,
        utterances.served_model,
        utterances.system_fingerprint,
        utterances.created_at,
        utterances.reasks,
        1 + utterances.reasks as calls,
        case when utterances.cache_hit then 0 else coalesce(utterances.tokens_in, 0) end as tokens_in,
        case when utterances.cache_hit then 0 else coalesce(utterances.tokens_out, 0) end as tokens_out,
        case when not utterances.cache_hit and utterances.status <> 'error' then utterances.latency_ms end
            as latency_ms,
        coalesce(
            utterances.cost_usd,
            case when utterances.cache_hit then 0 else
                (coalesce(utterances.tokens_in, 0) * coalesce(prices.price_per_1k_input_usd, 0)
                 + coalesce(utterances.tokens_out, 0) * coalesce(prices.price_per_1k_output_usd, 0)) / 1000
            end
        ) as cost_usd
    from utterances
    inner join runs using (run_id)
    left join agents on agents.run_id = utterances.run_id and agents.agent_idx = utterances.agent_idx
    left join prices on prices.study = runs.study and prices.model = runs.model
)

select * from final
