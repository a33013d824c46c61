-- One row per (study, model): the prices the study's latest config gives its models (0 when unpriced).
with

studies as (
    select * from {{ source('raw', 'studies') }}
),

models as (
    select
        study,
        unnest(
            from_json(
                json_extract(config_json, '$.models'),
                '[{"name": "VARCHAR", "price_per_1k_input_usd": "DOUBLE", "price_per_1k_output_usd": "DOUBLE"}]'
            ),
            recursive := true
        )
    from studies
),

final as (
    select
        study,
        name as model,
        coalesce(price_per_1k_input_usd, 0) as price_per_1k_input_usd,
        coalesce(price_per_1k_output_usd, 0) as price_per_1k_output_usd
    from models
)

select * from final
