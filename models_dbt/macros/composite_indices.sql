{#-
    Metric spec v1 composites over a relation that has monologue_ratio, pathology_rate, protective_rate and
    reference_population: the three z-scores, then
    CPI = z(monologue_ratio) + z(pathology_rate) - z(protective_rate) and
    DI  = z(monologue_ratio) + z(protective_rate) - z(pathology_rate).
-#}
{% macro composite_indices(relation) %}
zscored as (
    select
        *,
        {{ zscore('monologue_ratio', 'reference_population') }} as z_monologue_ratio,
        {{ zscore('pathology_rate', 'reference_population') }} as z_pathology_rate,
        {{ zscore('protective_rate', 'reference_population') }} as z_protective_rate
    from {{ relation }}
),

indexed as (
    select
        *,
        z_monologue_ratio + z_pathology_rate - z_protective_rate as cpi,
        z_monologue_ratio + z_protective_rate - z_pathology_rate as di
    from zscored
)
{% endmacro %}
