{#-
    Multiplicity-adjusted p-values within a family (partition), as statsmodels' multipletests computes them:
    with the family's m non-NULL p-values sorted ascending (p_(1) <= ... <= p_(m)),
    Holm:  p~_(i) = max over j <= i of min(1, (m - j + 1) p_(j));
    BH:    p~_(i) = min over j >= i of min(1, m / j p_(j));
    none:  p~ = p. BH is floored at p itself: m p / m can round below p in floating point, and an adjusted p
    is never below the raw one. NULL p stays NULL and does not count in m. method is a column (holm | bh | none).
    Needs the columns p_rank (row_number over the family ordered by p, NULLs last) and family_size (count(p)).
-#}
{% macro p_rank_columns(p, family) -%}
        count({{ p }}) over (partition by {{ family }}) as family_size,
        row_number() over (partition by {{ family }} order by {{ p }} asc nulls last, language, model) as p_rank
{%- endmacro %}

{% macro adjusted_p(p, family, method) -%}
    case when {{ p }} is not null then
        case {{ method }}
            when 'none' then {{ p }}
            when 'bh' then greatest({{ p }}, min(least(1.0, family_size * {{ p }} / p_rank)) over (
                partition by {{ family }} order by p_rank rows between current row and unbounded following))
            else max(least(1.0, (family_size - p_rank + 1) * {{ p }})) over (
                partition by {{ family }} order by p_rank rows between unbounded preceding and current row)
        end
    end
{%- endmacro %}
