{#-
    The two-group effect-size formulas every effect mart shares (group b minus group a):
    pooled sd = sqrt(((n_a - 1) var_a + (n_b - 1) var_b) / (n_a + n_b - 2)), NULL when 0 or a group has < 2;
    g = J (mean_b - mean_a) / pooled sd with J = 1 - 3 / (4 (n_a + n_b) - 9);
    95% CI half width = 1.96 sqrt((n_a + n_b) / (n_a n_b) + g^2 / (2 (n_a + n_b))) (Hedges & Olkin);
    t = (mean_b - mean_a) / (pooled sd sqrt(1 / n_a + 1 / n_b)), df = n_a + n_b - 2 (pooled-variance t test).
-#}
{% macro pooled_sd(n_a, var_a, n_b, var_b) -%}
    case when {{ n_a }} >= 2 and {{ n_b }} >= 2 then
        nullif(sqrt((({{ n_b }} - 1) * {{ var_b }} + ({{ n_a }} - 1) * {{ var_a }}) / ({{ n_b }} + {{ n_a }} - 2)), 0)
    end
{%- endmacro %}

{% macro hedges_g(n_a, mean_a, n_b, mean_b, sd) -%}
    (1 - 3 / (4 * ({{ n_b }} + {{ n_a }}) - 9.0)) * ({{ mean_b }} - {{ mean_a }}) / {{ sd }}
{%- endmacro %}

{% macro t_statistic(n_a, mean_a, n_b, mean_b, sd) -%}
    ({{ mean_b }} - {{ mean_a }}) / ({{ sd }} * sqrt(1.0 / {{ n_b }} + 1.0 / {{ n_a }}))
{%- endmacro %}

{% macro g_half_width(g, n_a, n_b) -%}
    1.96 * sqrt(({{ n_b }} + {{ n_a }}) / ({{ n_b }} * {{ n_a }} * 1.0) + {{ g }} ^ 2 / (2.0 * ({{ n_b }} + {{ n_a }})))
{%- endmacro %}

{% macro direction(g, half_width) -%}
    case
        when {{ g }} - {{ half_width }} > 0 then 'amplified'
        when {{ g }} + {{ half_width }} < 0 then 'reduced'
        when {{ g }} - {{ half_width }} <= 0 then 'none'
    end
{%- endmacro %}

{#- n, mean and sample variance of ``value`` in the two groups split by the boolean ``in_b``:
    n_<a>, n_<b>, mean_<a>, mean_<b>, var_<a>, var_<b> (NULL values are not counted). -#}
{% macro arm_statistics(value, in_b, a, b) -%}
        count({{ value }}) filter (where not {{ in_b }}) as n_{{ a }},
        count({{ value }}) filter (where {{ in_b }}) as n_{{ b }},
        avg({{ value }}) filter (where not {{ in_b }}) as mean_{{ a }},
        avg({{ value }}) filter (where {{ in_b }}) as mean_{{ b }},
        var_samp({{ value }}) filter (where not {{ in_b }}) as var_{{ a }},
        var_samp({{ value }}) filter (where {{ in_b }}) as var_{{ b }}
{%- endmacro %}

{#- The direction label of an effect: its sign where the (adjusted) p is under alpha, 'none' where it is not,
    and SQL NULL where there is no p to judge by (too few runs, one aligned share, no variance). -#}
{% macro direction_by_p(g, p, alpha) -%}
    case
        when {{ p }} < {{ alpha }} and {{ g }} > 0 then 'amplified'
        when {{ p }} < {{ alpha }} and {{ g }} < 0 then 'reduced'
        when {{ p }} is not null then 'none'
    end
{%- endmacro %}
