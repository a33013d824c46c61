-- One row per (run_id, agent_idx): metric-v1 measures of one agent over all its turns, and the metric-v2 means
-- of its model scores (NULL where no model scored it).
with

utterances as (
    select * from {{ ref('int_utterances_lexicon_pivoted') }}
),

agents as (
    select * from {{ ref('stg_agents') }}
),

model_scores as (
    select * from {{ ref('int_utterances_model_scores_pivoted') }}
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

model_means as (
    select
        run_id,
        agent_idx,
        avg(pathology_prob) filter (where channel = 'talk') as pathology_prob,
        avg(protective_prob) filter (where channel = 'talk') as protective_prob,
        avg(semantic_conformity) filter (where channel = 'talk') as semantic_conformity,
        avg(semantic_dissociation) filter (where channel = 'talk') as semantic_dissociation,
        avg(in_language) filter (where channel in ('talk', 'monologue')) as language_fidelity
    from model_scores
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
            as conformity_share,
        model_means.pathology_prob,
        model_means.protective_prob,
        model_means.semantic_conformity,
        model_means.semantic_dissociation,
        model_means.language_fidelity
    from agents
    left join summed using (run_id, agent_idx)
    left join model_means using (run_id, agent_idx)
)

select * from final
