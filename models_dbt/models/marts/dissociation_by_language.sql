{{ effect_by_language('di') }}
