-- One row per utterance the study's exclusion rule keeps (by default not an error, parse_error or truncated
-- reply): the metric-v2 model scores side by side. Every version of a model
-- scorer is read (a model scorer's version names its model); a value is first averaged per model_id, then over
-- the model_ids. pathology_prob and protective_prob come from the classifier when it has a value for the
-- utterance, else from the zero-shot scorer. Abstained rows never enter: NULL where nothing scored the value.
with

utterances as (
    select * from {{ ref('int_utterances_exclusion_flagged') }}
    where not is_excluded
),

scores as (
    select * from {{ ref('stg_scores') }}
    where not abstained
        and (
            (scorer in ('classifier', 'zero-shot') and dimension in ('pathology', 'protective'))
            or (scorer = 'embedding' and dimension in ('semantic_conformity', 'semantic_dissociation'))
            or (scorer = 'langid' and dimension = 'in_language')
        )
),

per_model as (
    select
        utterance_id,
        scorer,
        model_id,
        dimension,
        avg(value) as value
    from scores
    group by utterance_id, scorer, model_id, dimension
),

pivoted as (
    select
        utterance_id,
        avg(value) filter (where scorer = 'classifier' and dimension = 'pathology') as classifier_pathology,
        avg(value) filter (where scorer = 'zero-shot' and dimension = 'pathology') as zero_shot_pathology,
        avg(value) filter (where scorer = 'classifier' and dimension = 'protective') as classifier_protective,
        avg(value) filter (where scorer = 'zero-shot' and dimension = 'protective') as zero_shot_protective,
        avg(value) filter (where scorer = 'embedding' and dimension = 'semantic_conformity') as semantic_conformity,
        avg(value) filter (where scorer = 'embedding' and dimension = 'semantic_dissociation')
            as semantic_dissociation,
        avg(value) filter (where scorer = 'langid' and dimension = 'in_language') as in_language
    from per_model
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
        coalesce(pivoted.classifier_pathology, pivoted.zero_shot_pathology) as pathology_prob,
        coalesce(pivoted.classifier_protective, pivoted.zero_shot_protective) as protective_prob,
        case
            when pivoted.classifier_pathology is not null then 'classifier'
            when pivoted.zero_shot_pathology is not null then 'zero-shot'
        end as pathology_scorer,
        case
            when pivoted.classifier_protective is not null then 'classifier'
            when pivoted.zero_shot_protective is not null then 'zero-shot'
        end as protective_scorer,
        pivoted.semantic_conformity,
        pivoted.semantic_dissociation,
        pivoted.in_language
    from utterances
    left join pivoted using (utterance_id)
)

select * from final
