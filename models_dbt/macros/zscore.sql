{#- z-score of a column over a window partition; 0 when the partition has no spread (documented in metrics.md). -#}
{% macro zscore(column, partition_by) -%}
    coalesce(
        ({{ column }} - avg({{ column }}) over (partition by {{ partition_by }}))
        / nullif(stddev_samp({{ column }}) over (partition by {{ partition_by }}), 0),
        0)
{%- endmacro %}
