-- One row per (run_id, agent_idx): metric-v1 measures of one agent over all its turns.
with

utterances as (
    select * from {{ ref('int_utterances_lexicon_pivoted') }}
),

agents as (
    select * from {{ ref('stg_agents') }}
),

summed as (
    select
        run_id,
        agent_idx,
        sum(characters) filter (where channel = 'talk') as talk_characters,
        sum(characters) filter (where channel = 'monologue') as monologue_characters,
        sum(units) filter (where channel = 'talk') as talk_units,
        sum(pathology_hits) filter (where channel = 'talk') as pathology_hits,
        sum(protective_hits) filter (where channel = 'talk') as protective_hits,
        sum(conformity_hits) filter (where channel = 'talk') as conformity_hits,
        sum(individuation_hits) filter (where channel = 'talk') as individuation_hits,
        count(*) filter (where channel = 'talk') as n_replies
    from utterances
    group by run_id, agent_idx
),

final as (
    select
        agents.run_id,
        agents.agent_idx,
        agents.persona_id,
        agents.aligned,
        agents.individuated,
        coalesce(summed.talk_characters, 0) as talk_characters,
        coalesce(summed.monologue_characters, 0) as monologue_characters,
        coalesce(summed.talk_units, 0) as talk_units,
        coalesce(summed.pathology_hits, 0) as pathology_hits,
        coalesce(summed.protective_hits, 0) as protective_hits,
        coalesce(summed.conformity_hits, 0) as conformity_hits,
        coalesce(summed.individuation_hits, 0) as individuation_hits,
        coalesce(summed.n_replies, 0) as n_replies,
        summed.monologue_characters / nullif(summed.talk_characters + summed.monologue_characters, 0)
            as monologue_ratio,
        100.0 * summed.pathology_hits / nullif(summed.talk_units, 0) as pathology_rate,
        100.0 * summed.protective_hits / nullif(summed.talk_units, 0) as protective_rate,
        summed.conformity_hits / nullif(summed.conformity_hits + summed.individuation_hits, 0)
            as conformity_share
    from agents
    left join summed using (run_id, agent_idx)
)

select * from final
