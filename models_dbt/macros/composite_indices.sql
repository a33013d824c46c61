{#-
    Metric spec v1 composites over a relation with monologue_ratio, pathology_rate, protective_rate, the cell
    columns (study, language, model, evaluation_date, synthetic), aligned_share, individuation and
    zscore_reference: the three z-scores under each reference population (macros/reference_population.sql),
    z_<measure>_<reference> for reference in language, study, baseline, then under each
    CPI = z(monologue_ratio) + z(pathology_rate) - z(protective_rate) and
    DI  = z(monologue_ratio) + z(protective_rate) - z(pathology_rate) (cpi_<reference>, di_<reference>);
    z_<measure>, cpi and di are the ones under the study's zscore_reference.
-#}

{% macro composite_indices(relation) %}
zscored as (
    select
        *,
        {%- for measure in ['monologue_ratio', 'pathology_rate', 'protective_rate'] %}
        {{ zscore(measure, language_population()) }} as z_{{ measure }}_language,
        {{ zscore(measure, study_population()) }} as z_{{ measure }}_study,
        {{ zscore(measure, language_population(), reference=in_baseline_arm()) }} as z_{{ measure }}_baseline{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ relation }}
),

per_reference as (
    select
        *,
        {%- for reference in ['language', 'study', 'baseline'] %}
        z_monologue_ratio_{{ reference }} + z_pathology_rate_{{ reference }} - z_protective_rate_{{ reference }}
            as cpi_{{ reference }},
        z_monologue_ratio_{{ reference }} + z_protective_rate_{{ reference }} - z_pathology_rate_{{ reference }}
            as di_{{ reference }}{{ ',' if not loop.last }}
        {%- endfor %}
    from zscored
),

indexed as (
    select
        *,
        {%- for column in ['z_monologue_ratio', 'z_pathology_rate', 'z_protective_rate', 'cpi', 'di'] %}
        case zscore_reference
            when 'study' then {{ column }}_study
            when 'baseline' then {{ column }}_baseline
            else {{ column }}_language
        end as {{ column }}{{ ',' if not loop.last }}
        {%- endfor %}
    from per_reference
)
{% endmacro %}

{#-
    Metric spec v2 composites over the same relation with pathology_prob and protective_prob: the z-scores under
    the study's zscore_reference (macros/reference_population.sql), taken over the population's members that
    have all three measures (v2_measured; the others have NULL z-scores), then
    CPI v2 = z(monologue_ratio) + z(pathology_prob) - z(protective_prob) and
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
        {%- for measure, name in [('monologue_ratio', 'z_monologue_ratio_v2'), ('pathology_prob', 'z_pathology_prob'),
                                  ('protective_prob', 'z_protective_prob')] %}
        case when v2_measured then
            {{ zscore(measure, configured_population() ~ ', v2_measured', reference=configured_reference_rows()) }}
        end as {{ name }}{{ ',' if not loop.last }}
        {%- endfor %}
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
