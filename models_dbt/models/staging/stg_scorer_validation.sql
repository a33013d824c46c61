with

source as (
    select * from {{ source('raw', 'scorer_validation') }}
)

select
    scorer,
    scorer_version,
    model_id,
    language,
    split,
    gold_hash,
    breakdown,
    category,
    n,
    n_correct,
    tp,
    fp,
    fn,
    cast(precision as double) as precision,
    cast(recall as double) as recall,
    cast(f1 as double) as f1,
    cast(accuracy as double) as accuracy,
    cast(kappa as double) as kappa,
    n_abstained,
    n_disagreed,
    cast(gold_kappa_label as double) as gold_kappa_label,
    cast(gold_kappa_subcategory as double) as gold_kappa_subcategory,
    evaluated_at
from source
