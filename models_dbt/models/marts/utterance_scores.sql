with

scores as (
    select * from {{ ref('stg_scores') }}
),

utterances as (
    select utterance_id, run_id from {{ ref('stg_utterances') }}
),

-- the lexicon scorer's own counts: the viewer recounts them from its highlighted hits, so only what the
-- lexicon adds beyond them (e.g. negated or quoted hits) is kept
beyond_lexicon_counts as (
    select *
    from scores
    where not (
        scorer = 'lexicon'
        and dimension in (
            'pathology', 'pathology.coercion_compliance', 'pathology.exclusion', 'pathology.disclosure',
            'pathology.atrocity_endorsement', 'protective', 'protective.general', 'conformity', 'individuation',
            'units', 'characters'
        )
    )
),

final as (
    select
        utterances.run_id,
        beyond_lexicon_counts.utterance_id,
        beyond_lexicon_counts.scorer,
        beyond_lexicon_counts.scorer_version,
        beyond_lexicon_counts.model_id,
        beyond_lexicon_counts.dimension,
        beyond_lexicon_counts.value,
        beyond_lexicon_counts.abstained
    from beyond_lexicon_counts
    inner join utterances on utterances.utterance_id = beyond_lexicon_counts.utterance_id
    order by utterances.run_id, beyond_lexicon_counts.utterance_id
)

select * from final
