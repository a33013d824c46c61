-- One row per complete run (every agent's talk stored for every turn): measures pooled over the group's
-- utterances (ratios of sums, not means of ratios). Partially simulated runs wait until they are resumed.
with

talk_rows as (
    select
        run_id,
        count(*) as n_talk,
        count(*) filter (where status = 'error') as n_errors
    from {{ ref('stg_utterances') }}
    where channel = 'talk'
    group by run_id
),

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
        talk_rows.n_errors,
        pooled.monologue_characters / nullif(pooled.talk_characters + pooled.monologue_characters, 0)
            as monologue_ratio,
        100.0 * pooled.pathology_hits / nullif(pooled.talk_units, 0) as pathology_rate,
        100.0 * pooled.protective_hits / nullif(pooled.talk_units, 0) as protective_rate,
        pooled.conformity_hits / nullif(pooled.conformity_hits + pooled.individuation_hits, 0) as conformity_share
    from runs
    inner join pooled using (run_id)
    inner join talk_rows using (run_id)
    where pooled.n_replies > 0
        and talk_rows.n_talk = runs.n_agents * runs.n_turns
)

select * from final
