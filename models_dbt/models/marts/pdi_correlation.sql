-- Across languages: does the effect of alignment rise with Power Distance? Pearson r with its Fisher-z 95% CI
-- and t-test p (df = n - 2, the same p as scipy.stats.pearsonr), and Spearman's rho on average ranks with
-- the t-approximation p of scipy.stats.spearmanr. One row per (study, model, evaluation date, metric).
with

points as (
    select * from {{ ref('language_pdi_effects') }}
    where hedges_g is not null and pdi is not null
),

ranked as (
    select
        *,
        rank() over (partition by study, model, evaluation_date, synthetic, metric order by hedges_g)
            + (count(*) over (partition by study, model, evaluation_date, synthetic, metric, hedges_g) - 1) / 2.0
            as g_rank,
        rank() over (partition by study, model, evaluation_date, synthetic, metric order by pdi)
            + (count(*) over (partition by study, model, evaluation_date, synthetic, metric, pdi) - 1) / 2.0
            as pdi_rank
    from points
),

coefficients as (
    select
        study, model, evaluation_date, synthetic, metric,
        count(*) as n_languages,
        -- Undefined below 3 languages (2 points always correlate +/-1); clamped against rounding past +/-1.
        case when count(*) >= 3 then greatest(-1.0, least(1.0, corr(hedges_g, pdi))) end as pearson_r,
        case when count(*) >= 3 then greatest(-1.0, least(1.0, corr(g_rank, pdi_rank))) end as spearman_rho,
        any_value(metric_spec) as metric_spec
    from ranked
    group by all
),

tested as (
    select
        *,
        case when n_languages >= 3 and abs(pearson_r) < 1 then
            pearson_r * sqrt((n_languages - 2) / (1 - pearson_r ^ 2)) end as pearson_t,
        case when n_languages >= 3 and abs(spearman_rho) < 1 then
            spearman_rho * sqrt((n_languages - 2) / (1 - spearman_rho ^ 2)) end as spearman_t,
        case when n_languages >= 4 and abs(pearson_r) < 1 then 1.959963984540054 / sqrt(n_languages - 3) end
            as fisher_half_width
    from coefficients
),

final as (
    select
        study,
        model,
        evaluation_date,
        metric,
        n_languages,
        pearson_r,
        tanh(atanh(pearson_r) - fisher_half_width) as r_ci_low,
        tanh(atanh(pearson_r) + fisher_half_width) as r_ci_high,
        t_two_sided_p(pearson_t, n_languages - 2) as p_value,
        spearman_rho,
        t_two_sided_p(spearman_t, n_languages - 2) as spearman_p_value,
        synthetic,
        metric_spec
    from tested
)

select * from final
order by study, model, evaluation_date, metric
