-- One row per utterance scored by the lexicon scorer that the study's exclusion rule keeps (by default not an
-- error, parse_error or truncated reply): marker counts and units side by side.
with

utterances as (
    select * from {{ ref('int_utterances_exclusion_flagged') }}
    where not is_excluded
),

scores as (
    select * from {{ ref('stg_scores') }}
    where scorer = 'lexicon'
        and scorer_version = '{{ var("lexicon_scorer_version") }}'
        and not abstained
),

pivoted as (
    select
        utterance_id,
        sum(value) filter (where dimension = 'pathology') as pathology_hits,
        sum(value) filter (where dimension = 'protective') as protective_hits,
        sum(value) filter (where dimension = 'conformity') as conformity_hits,
        sum(value) filter (where dimension = 'individuation') as individuation_hits,
        sum(value) filter (where dimension = 'units') as units,
        sum(value) filter (where dimension = 'characters') as characters
    from scores
    group by utterance_id
),

final as (
    select
        utterances.utterance_id,
        utterances.run_id,
        utterances.turn,
        utterances.agent_idx,
        utterances.channel,
        utterances.status,
        pivoted.pathology_hits,
        pivoted.protective_hits,
        pivoted.conformity_hits,
        pivoted.individuation_hits,
        pivoted.units,
        pivoted.characters
    from utterances
    inner join pivoted using (utterance_id)
)

select * from final
