-- One row per utterance scored by the lexicon scorer of its study's metric spec (v1: scorer lexicon at
-- lexicon_scorer_version; v1.1: scorer lexicon-v1.1 at lexicon_v11_scorer_version, whose stance counts leave out
-- negated, quoted and echoed markers) that the study's exclusion rule keeps (by default not an error,
-- parse_error or truncated reply): marker counts and units side by side.
with

utterances as (
    select * from {{ ref('int_utterances_exclusion_flagged') }}
    where not is_excluded
),

scores as (
    select scores.*
    from {{ ref('stg_scores') }} as scores
    inner join utterances using (utterance_id)
    where not scores.abstained
        and (
            (utterances.metric_spec = 'v1' and scores.scorer = 'lexicon'
                and scores.scorer_version = '{{ var("lexicon_scorer_version") }}')
            or (utterances.metric_spec = 'v1.1' and scores.scorer = 'lexicon-v1.1'
                and scores.scorer_version = '{{ var("lexicon_v11_scorer_version") }}')
        )
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
