{#- The join condition of two relations on the effect tables' grain: (study, language, model,
    evaluation_date, synthetic); an undated evaluation matches an undated one. -#}
{% macro same_cell(left, right) -%}
    {{ left }}.study = {{ right }}.study
        and {{ left }}.language = {{ right }}.language
        and {{ left }}.model = {{ right }}.model
        and {{ left }}.evaluation_date is not distinct from {{ right }}.evaluation_date
        and {{ left }}.synthetic = {{ right }}.synthetic
{%- endmacro %}
