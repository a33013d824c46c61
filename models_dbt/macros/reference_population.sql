{#-
    The populations CPI/DI z-scores are taken over (docs/metrics.md, Reference population). Every population
    keeps synthetic and real runs apart, and one evaluation date apart from another, so a new nightly
    evaluation does not shift the indices of earlier nights.
    - language (default): the runs of the same study x language x model x date;
    - study: every language of the study x model x date pooled;
    - baseline: the language population, with the mean and sd of its aligned-share-0 runs without
      individuation (the control arm), so z reads "control-arm sds away from the control mean".
    Each macro takes the relation's alias prefix ('' or 'runs.').
-#}
{% macro language_population(prefix='') -%}
    {{ prefix }}study, {{ prefix }}language, {{ prefix }}model, {{ prefix }}evaluation_date, {{ prefix }}synthetic
{%- endmacro %}

{% macro study_population(prefix='') -%}
    {{ prefix }}study, {{ prefix }}model, {{ prefix }}evaluation_date, {{ prefix }}synthetic
{%- endmacro %}

{% macro in_baseline_arm(prefix='') -%}
    ({{ prefix }}aligned_share = 0 and not {{ prefix }}individuation)
{%- endmacro %}

{#- The population the study's own zscore_reference names, as one partition expression (the language is
    blanked out for 'study') and one reference filter (the baseline arm for 'baseline', every row otherwise). -#}
{% macro configured_population(prefix='') -%}
    {{ study_population(prefix) }},
    case when {{ prefix }}zscore_reference = 'study' then null else {{ prefix }}language end
{%- endmacro %}

{% macro configured_reference_rows(prefix='') -%}
    ({{ prefix }}zscore_reference <> 'baseline' or {{ in_baseline_arm(prefix) }})
{%- endmacro %}
