{#-
    z-score of a column over a window partition (metrics.md): 0 when the reference has no spread,
    NULL when the value itself is NULL (e.g. a rate over zero talk units).
    reference: an optional boolean expression; the mean and sd are then taken over the partition's rows where it
    holds (the baseline arm), and the z-score is NULL in a partition that has no such row.
-#}
{% macro zscore(column, partition_by, reference=none) -%}
    {%- set reference_value = column if reference is none
        else '(case when ' ~ reference ~ ' then ' ~ column ~ ' end)' -%}
    case when {{ column }} is not null
        {%- if reference is not none %} and count({{ reference_value }}) over (partition by {{ partition_by }}) > 0{% endif %} then
        coalesce(
            ({{ column }} - avg({{ reference_value }}) over (partition by {{ partition_by }}))
            / nullif(stddev_samp({{ reference_value }}) over (partition by {{ partition_by }}), 0),
            0)
    end
{%- endmacro %}
