with

agents as (
    select * from {{ ref('int_agents_zscored') }}
),

specs as (
    select distinct run_id, metric_spec from {{ ref('stg_runs') }}
),

final as (
    select
        run_id,
        agent_idx,
        study,
        language,
        model,
        aligned_share,
        individuation,
        persona_id,
        aligned,
        individuated,
        monologue_ratio,
        pathology_rate,
        protective_rate,
        conformity_share,
        cpi,
        di,
        synthetic,
        evaluation_date,
        n_replies,
        array_to_string(exclude_statuses, ',') as exclude_statuses,
        zscore_reference,
        pathology_prob,
        protective_prob,
        cpi_v2,
        di_v2,
        semantic_conformity,
        semantic_dissociation,
        language_fidelity,
        specs.metric_spec
    from agents
    left join specs using (run_id)
)

select * from final
