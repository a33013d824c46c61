with

source as (
    select * from {{ source('raw', 'utterances') }}
)

select
    utterance_id,
    run_id,
    turn,
    agent_idx,
    channel,
    text,
    status,
    error,
    tokens_in,
    tokens_out,
    latency_ms,
    cache_hit,
    coalesce(reasks, 0) as reasks,
    cost_usd,
    model,
    backend,
    served_model,
    system_fingerprint,
    created_at
from source
