with

source as (
    select * from {{ source('raw', 'scores') }}
)

select
    utterance_id,
    scorer,
    scorer_version,
    model_id,
    dimension,
    cast(value as double) as value,
    abstained
from source
