-- One row per complete run (every agent's talk stored for every turn): measures pooled over the group's
-- utterances that the study's exclusion rule keeps (ratios of sums, not means of ratios), the metric-v2 means
-- over all the group's kept scored utterances, and how many talk replies the rule excluded.
-- Partially simulated runs wait until they are resumed.
with

counted as (
    -- complete runs only
    select * from {{ ref('int_runs_exclusions_counted') }}
),

agents as (
    select * from {{ ref('int_agents_measured') }}
),

runs as (
    select * from {{ ref('stg_runs') }}
),

model_means as (
    select
        run_id,
        avg(pathology_prob) filter (where channel = 'talk') as pathology_prob,
        avg(protective_prob) filter (where channel = 'talk') as protective_prob,
        avg(semantic_conformity) filter (where channel = 'talk') as semantic_conformity,
        avg(semantic_dissociation) filter (where channel = 'talk') as semantic_dissociation,
        avg(in_language) filter (where channel in ('talk', 'monologue')) as language_fidelity
    from {{ ref('int_utterances_model_scores_pivoted') }}
    group by run_id
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
        counted.n_errors,
        counted.n_excluded,
        pooled.monologue_characters / nullif(pooled.talk_characters + pooled.monologue_characters, 0)
            as monologue_ratio,
        100.0 * pooled.pathology_hits / nullif(pooled.talk_units, 0) as pathology_rate,
        100.0 * pooled.protective_hits / nullif(pooled.talk_units, 0) as protective_rate,
        pooled.conformity_hits / nullif(pooled.conformity_hits + pooled.individuation_hits, 0) as conformity_share,
        model_means.pathology_prob,
        model_means.protective_prob,
        model_means.semantic_conformity,
        model_means.semantic_dissociation,
        model_means.language_fidelity
    from runs
    inner join pooled using (run_id)
    inner join counted using (run_id)
    left join model_means using (run_id)
    where pooled.n_replies > 0
)

select * from final
