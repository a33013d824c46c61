{{ effect_by_language('cpi') }}
