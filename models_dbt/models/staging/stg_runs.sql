with

source as (
    select * from {{ source('raw', 'runs') }}
),

studies as (
    select * from {{ source('raw', 'studies') }}
),

renamed as (
    select
        source.run_id,
        source.study,
        source.language,
        source.model,
        source.backend,
        cast(source.aligned_share as double) as aligned_share,
        source.k_aligned,
        source.n_agents,
        source.n_turns,
        source.individuation,
        source.n_individuated,
        source.replicate,
        source.seed,
        source.scenario,
        source.content_hash,
        -- The content (pack version) of the cell's most recently designed runs: runs of an earlier version of the
        -- language's pack stay stored but enter no measure, so no mart cell mixes pack versions
        -- (marts.content_versions reports the cells that would).
        source.content_hash = first_value(source.content_hash) over (
            partition by source.study, source.language, source.model, source.evaluation_date, source.synthetic
            order by source.created_at desc, source.content_hash) as is_current_content,
        source.created_at,
        source.history_window,
        source.evaluation_date,
        source.synthetic,
        coalesce(source.wording, 'base') as wording,
        -- Warehouses written before direction labels said 'none' stored 'null' for "no planted effect".
        replace(source.planted_cpi_direction, 'null', 'none') as planted_cpi_direction,
        replace(source.planted_di_direction, 'null', 'none') as planted_di_direction,
        -- Runs recorded before the requested model was kept asked for their model's name.
        coalesce(source.requested_model, source.model) as requested_model,
        source.temperature,
        source.top_p,
        source.max_tokens,
        source.decoding_seed,
        -- 'study_language' is the former name of 'language' (warehouses written before the rename)
        case studies.zscore_reference when 'study_language' then 'language'
            else coalesce(studies.zscore_reference, 'language') end as zscore_reference,
        studies.replication_target,
        studies.exclude_statuses,
        studies.max_exclusion_difference,
        coalesce(studies.p_adjust, 'holm') as p_adjust,
        coalesce(studies.alpha, 0.05) as alpha,
        -- Which lexicon the study's v1 columns read (analysis.metric_spec): v1 = scorer lexicon (surface forms),
        -- v1.1 = scorer lexicon-v1.1 (lemmas, negation, quotation, echo). One per study: no cell mixes them.
        coalesce(studies.metric_spec, '{{ var("metric_spec") }}') as metric_spec
    from source
    left join studies on studies.study = source.study
)

select * from renamed
