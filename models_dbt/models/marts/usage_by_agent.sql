with

calls as (
    select * from {{ ref('int_calls') }}
),

final as (
    select
        run_id,
        agent_idx,
        any_value(study) as study,
        any_value(language) as language,
        any_value(model) as model,
        any_value(aligned) as aligned,
        any_value(individuated) as individuated,
        {{ usage_aggregates() }}
    from calls
    group by run_id, agent_idx
)

select * from final
