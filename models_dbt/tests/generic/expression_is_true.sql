{#- Fails on rows where the expression is false (dbt_utils' test, without the package: no network here). -#}
{% test expression_is_true(model, expression, column_name=none) %}
select * from {{ model }} where not ({{ expression }})
{% endtest %}
