with

source as (
    select * from {{ source('raw', 'scorer_register_errors') }}
)

select
    scorer,
    scorer_version,
    model_id,
    language,
    split,
    gold_hash,
    n_sensitive,
    errors_sensitive,
    n_rest,
    errors_rest,
    cast(error_rate_sensitive as double) as error_rate_sensitive,
    cast(error_rate_rest as double) as error_rate_rest,
    cast(difference as double) as difference,
    cast(ci_low as double) as ci_low,
    cast(ci_high as double) as ci_high,
    cast(margin as double) as margin,
    flagged,
    evaluated_at
from source
