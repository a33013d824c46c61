-- One row per run: measures pooled over the group's utterances (ratios of sums, not means of ratios).
with

agents as (
    select * from {{ ref('int_agents_measured') }}
),

runs as (
    select * from {{ ref('stg_runs') }}
),

pooled as (
    select
        run_id,
        sum(talk_characters) as talk_characters,
        sum(monologue_characters) as monologue_characters,
        sum(talk_units) as talk_units,
        sum(pathology_hits) as pathology_hits,
        sum(protective_hits) as protective_hits,
        sum(conformity_hits) as conformity_hits,
        sum(individuation_hits) as individuation_hits,
        sum(n_replies) as n_replies
    from agents
    group by run_id
),

final as (
    select
        runs.*,
        pooled.n_replies,
        pooled.monologue_characters / nullif(pooled.talk_characters + pooled.monologue_characters, 0)
            as monologue_ratio,
        100.0 * pooled.pathology_hits / nullif(pooled.talk_units, 0) as pathology_rate,
        100.0 * pooled.protective_hits / nullif(pooled.talk_units, 0) as protective_rate,
        pooled.conformity_hits / nullif(pooled.conformity_hits + pooled.individuation_hits, 0) as conformity_share
    from runs
    inner join pooled using (run_id)
    where pooled.n_replies > 0
)

select * from final
