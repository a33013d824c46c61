{#-
    The population a run's z-scores are taken over: the study (or study x language, per the study's
    zscore_reference), never mixing synthetic with real runs or one evaluation date with another, so a new
    nightly evaluation does not shift the indices of earlier nights.
-#}
{% macro reference_population(study, language, evaluation_date, synthetic, zscore_reference) -%}
    concat_ws('/',
        {{ study }},
        case when {{ zscore_reference }} = 'study_language' then {{ language }} end,
        coalesce(cast({{ evaluation_date }} as varchar), 'undated'),
        case when {{ synthetic }} then 'synthetic' else 'real' end)
{%- endmacro %}
