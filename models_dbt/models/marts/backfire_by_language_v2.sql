{{ effect_by_language('cpi_v2', metric_spec='v2') }}
