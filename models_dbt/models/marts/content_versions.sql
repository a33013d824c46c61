-- One row per (study, language, model, evaluation_date, synthetic, content_hash): the pack contents the cell's
-- runs were designed with. Only the cell's current content (its most recently designed runs) enters the
-- measures; a cell with more than one row is a cell that would have mixed pack versions, reported here with
-- how many complete runs each content left out. raw.content_packs maps content_hash to pack_version.
with

runs as (
    select * from {{ ref('stg_runs') }}
),

counted as (
    select * from {{ ref('int_runs_exclusions_counted') }}
),

final as (
    select
        runs.study,
        runs.language,
        runs.model,
        runs.evaluation_date,
        runs.synthetic,
        runs.content_hash,
        bool_or(runs.is_current_content) as is_current,
        count(*) as n_runs,
        count(counted.run_id) as n_runs_measured,
        min(runs.created_at) as first_designed_at,
        max(runs.created_at) as last_designed_at,
        count(*) over (partition by runs.study, runs.language, runs.model, runs.evaluation_date, runs.synthetic)
            > 1 as cell_had_several_versions
    from runs
    left join counted using (run_id)
    group by runs.study, runs.language, runs.model, runs.evaluation_date, runs.synthetic, runs.content_hash
)

select * from final
order by study, language, model, evaluation_date, synthetic, is_current desc
