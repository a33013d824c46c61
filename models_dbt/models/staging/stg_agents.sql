with

source as (
    select * from {{ source('raw', 'agents') }}
)

select
    run_id,
    agent_idx,
    persona_id,
    aligned,
    individuated
from source
