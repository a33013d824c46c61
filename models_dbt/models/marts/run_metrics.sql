with

runs as (
    select * from {{ ref('int_runs_zscored') }}
),

decoding as (
    select run_id, requested_model, temperature, top_p, max_tokens, decoding_seed, metric_spec
    from {{ ref('stg_runs') }}
),

final as (
    select
        runs.run_id,
        runs.study,
        language,
        model,
        aligned_share,
        individuation,
        wording,
        monologue_ratio,
        pathology_rate,
        protective_rate,
        conformity_share,
        cpi,
        di,
        z_monologue_ratio,
        z_pathology_rate,
        z_protective_rate,
        cpi_language,
        di_language,
        cpi_study,
        di_study,
        cpi_baseline,
        di_baseline,
        synthetic,
        backend,
        k_aligned,
        n_agents,
        n_individuated,
        replicate,
        evaluation_date,
        n_replies,
        n_errors,
        n_excluded,
        array_to_string(exclude_statuses, ',') as exclude_statuses,
        zscore_reference,
        pathology_prob,
        protective_prob,
        cpi_v2,
        di_v2,
        semantic_conformity,
        semantic_dissociation,
        language_fidelity,
        decoding.requested_model,
        decoding.temperature,
        decoding.top_p,
        decoding.max_tokens,
        decoding.decoding_seed,
        decoding.metric_spec
    from runs
    left join decoding on decoding.run_id = runs.run_id
)

select * from final
