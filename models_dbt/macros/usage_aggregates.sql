{#- The accounting columns every usage mart sums over int_calls rows (one row per call group). -#}
{% macro usage_aggregates() -%}
        sum(calls) as calls,
        count(*) filter (where status = 'error') as errors,
        count(*) filter (where status = 'parse_error') as parse_errors,
        count(*) filter (where status = 'refused') as refusals,
        count(*) filter (where status = 'truncated') as truncated_calls,
        sum(reasks) as reasks,
        count(*) filter (where cache_hit) as cache_hits,
        sum(tokens_in) as tokens_in,
        sum(tokens_out) as tokens_out,
        avg(latency_ms) as mean_latency_ms,
        sum(cost_usd) as cost_usd
{%- endmacro %}
