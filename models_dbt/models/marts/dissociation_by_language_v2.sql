{{ effect_by_language('di_v2', components=['monologue_ratio', 'pathology_prob', 'protective_prob']) }}
