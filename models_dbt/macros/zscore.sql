{#-
    z-score of a column over a window partition (metrics.md): 0 when the partition has no spread,
    NULL when the value itself is NULL (e.g. a rate over zero talk units).
-#}
{% macro zscore(column, partition_by) -%}
    case when {{ column }} is not null then
        coalesce(
            ({{ column }} - avg({{ column }}) over (partition by {{ partition_by }}))
            / nullif(stddev_samp({{ column }}) over (partition by {{ partition_by }}), 0),
            0)
    end
{%- endmacro %}
