{{ effect_by_language('cpi_v2', components=['monologue_ratio', 'pathology_prob', 'protective_prob']) }}
