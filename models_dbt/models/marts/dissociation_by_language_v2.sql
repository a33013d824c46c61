{{ effect_by_language('di_v2', metric_spec='v2') }}
