-- One row per (scorer, scorer_version, model_id, language): the utterances a scorer scored (at least one
-- non-abstained row) and those it abstained on (abstained rows only). Abstentions carry model_id 'none', so an
-- abstained utterance is counted with the model that scored the other utterances of its (scorer, version,
-- language); where none did, with the model_id of its abstained rows (the language is not covered).
-- validation_flag: whether the gold test half validated this (scorer, scorer_version, model_id, language).
with

scores as (
    select * from {{ ref('stg_scores') }}
),

utterances as (
    select * from {{ ref('stg_utterances') }}
),

runs as (
    select * from {{ ref('stg_runs') }}
),

validation as (
    select * from {{ ref('scorer_validation') }}
),

validated as (
    select
        scorer,
        scorer_version,
        model_id,
        language,
        f1 as validated_f1
    from validation
    where split = 'test' and breakdown = 'overall' and is_latest
),

per_utterance as (
    select
        scores.scorer,
        scores.scorer_version,
        runs.language,
        scores.utterance_id,
        bool_or(not scores.abstained) as scored,
        min(scores.model_id) filter (where not scores.abstained) as scored_model_id,
        min(scores.model_id) as any_model_id
    from scores
    inner join utterances on utterances.utterance_id = scores.utterance_id
    inner join runs on runs.run_id = utterances.run_id
    group by scores.scorer, scores.scorer_version, runs.language, scores.utterance_id
),

language_models as (
    select
        scorer,
        scorer_version,
        language,
        min(scored_model_id) as language_model_id
    from per_utterance
    where scored
    group by scorer, scorer_version, language
),

attributed as (
    select
        per_utterance.scorer,
        per_utterance.scorer_version,
        coalesce(per_utterance.scored_model_id, language_models.language_model_id, per_utterance.any_model_id)
            as model_id,
        per_utterance.language,
        per_utterance.scored
    from per_utterance
    left join language_models
        on language_models.scorer = per_utterance.scorer
        and language_models.scorer_version = per_utterance.scorer_version
        and language_models.language = per_utterance.language
),

counted as (
    select
        scorer,
        scorer_version,
        model_id,
        language,
        count(*) filter (where scored) > 0 as covered,
        count(*) filter (where scored) as n_scored,
        count(*) filter (where not scored) as n_abstained
    from attributed
    group by scorer, scorer_version, model_id, language
),

final as (
    select
        counted.*,
        validated.validated_f1,
        case
            when not counted.covered then 'not_covered'
            when validated.scorer is null then 'not_validated'
            when coalesce(validated.validated_f1 < {{ var('scorer_f1_warning') }}, true) then 'f1_below_threshold'
            else 'validated'
        end as validation_flag
    from counted
    left join validated
        on validated.scorer = counted.scorer
        and validated.scorer_version = counted.scorer_version
        and validated.model_id = counted.model_id
        and validated.language = counted.language
)

select * from final
order by scorer, scorer_version, model_id, language
