with

seed as (
    select * from {{ ref('hofstede_power_distance') }}
),

final as (
    select
        language,
        country,
        country_name,
        pdi,
        source
    from seed
)

select * from final
