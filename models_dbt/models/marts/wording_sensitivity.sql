-- Wording controls: is a language's effect of alignment larger than the noise of how the alignment prefix is
-- worded? Per (study, language, model, evaluation_date, synthetic) and metric (cpi, di), over studies that cross
-- two or more wordings (design.wordings): Hedges' g of the highest vs lowest aligned share within each wording
-- (runs without individuation; the low arm of a wording is its own runs), and their spread across the wordings (g_sd_within, g_min, g_max) next to the spread of the
-- languages' mean g (g_sd_between_languages, over the study's languages of the same model and date).
-- wording_noise_share = g_sd_within / g_sd_between_languages: well under 1 means the language differences are
-- larger than wording noise.
with

runs as (
    select * from {{ ref('run_metrics') }}
    where not individuation
),

long as (
    select study, language, model, evaluation_date, synthetic, wording, aligned_share, 'cpi' as metric, cpi as value
    from runs
    union all
    select study, language, model, evaluation_date, synthetic, wording, aligned_share, 'di', di
    from runs
),

crossed as (
    -- studies with wording controls only
    select study from long group by study having count(distinct wording) >= 2
),

shares as (
    select study, language, model, evaluation_date, synthetic, wording, metric,
           min(aligned_share) as low_share, max(aligned_share) as high_share
    from long
    where study in (select study from crossed)
    group by all
),

arms as (
    select
        shares.study, shares.language, shares.model, shares.evaluation_date, shares.synthetic, shares.wording,
        shares.metric,
        {{ arm_statistics('long.value', 'long.aligned_share = shares.high_share', 'low', 'high') }}
    from shares
    inner join long
        on {{ same_cell('long', 'shares') }}
        and long.wording = shares.wording
        and long.metric = shares.metric
        and long.aligned_share in (shares.low_share, shares.high_share)
    group by all
),

per_wording as (
    select
        *,
        {{ hedges_g('n_low', 'mean_low', 'n_high', 'mean_high', pooled_sd('n_low', 'var_low', 'n_high', 'var_high')) }}
            as hedges_g
    from arms
),

per_language as (
    select
        study, language, model, evaluation_date, synthetic, metric,
        count(hedges_g) as n_wordings,
        string_agg(wording || '=' || round(hedges_g, 3), ', ' order by wording) as g_by_wording,
        avg(hedges_g) as g_mean,
        stddev_samp(hedges_g) as g_sd_within,
        min(hedges_g) as g_min,
        max(hedges_g) as g_max
    from per_wording
    group by all
),

final as (
    select
        *,
        stddev_samp(g_mean) over (partition by study, model, evaluation_date, synthetic, metric)
            as g_sd_between_languages,
        g_sd_within / nullif(stddev_samp(g_mean) over (
            partition by study, model, evaluation_date, synthetic, metric), 0) as wording_noise_share
    from per_language
)

select * from final
order by study, metric, language, model, evaluation_date
