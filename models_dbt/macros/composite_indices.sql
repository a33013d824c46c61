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

{#-
    Metric spec v2 composites over a relation that has monologue_ratio, pathology_prob, protective_prob and
    reference_population: the same z-scores (macros/zscore.sql) within the same reference population, taken
    over the population's members that have all three measures (v2_measured; the others have NULL z-scores),
    then CPI v2 = z(monologue_ratio) + z(pathology_prob) - z(protective_prob) and
    DI v2 = z(monologue_ratio) + z(protective_prob) - z(pathology_prob).
-#}
{% macro composite_indices_v2(relation) %}
measured_v2 as (
    select
        *,
        monologue_ratio is not null and pathology_prob is not null and protective_prob is not null as v2_measured
    from {{ relation }}
),

zscored_v2 as (
    select
        *,
        case when v2_measured then {{ zscore('monologue_ratio', 'reference_population, v2_measured') }} end
            as z_monologue_ratio_v2,
        case when v2_measured then {{ zscore('pathology_prob', 'reference_population, v2_measured') }} end
            as z_pathology_prob,
        case when v2_measured then {{ zscore('protective_prob', 'reference_population, v2_measured') }} end
            as z_protective_prob
    from measured_v2
),

indexed_v2 as (
    select
        *,
        z_monologue_ratio_v2 + z_pathology_prob - z_protective_prob as cpi_v2,
        z_monologue_ratio_v2 + z_protective_prob - z_pathology_prob as di_v2
    from zscored_v2
)
{% endmacro %}
