from __future__ import annotations

from core.study import parse_study
from simulation.design import assign_agents, expand_design
from simulation.stages import build_design
from tests.test_helpers.studies import small_study_dict


def test_grid_expands_every_cell_with_unique_deterministic_ids() -> None:
    study = parse_study(small_study_dict(aligned_shares=[0.0, 0.5, 1.0], replicates=3), "s")
    runs, agents = build_design(study)
    assert len(runs) == 2 * 3 * 3
    assert len({r.run_id for r in runs}) == len(runs)
    again, _ = build_design(study)
    assert [r.run_id for r in runs] == [r.run_id for r in again]
    assert len(agents) == len(runs) * 10


def test_k_of_n_agents_are_aligned_and_the_draw_is_seeded() -> None:
    study = parse_study(small_study_dict(aligned_shares=[0.3, 0.7]), "s")
    runs, agents = build_design(study)
    for run in runs:
        mine = [a for a in agents if a.run_id == run.run_id]
        assert sum(a.aligned for a in mine) == run.k_aligned == round(run.aligned_share * 10)
        assert len({a.persona_id for a in mine}) == 10
    other = parse_study({**small_study_dict(aligned_shares=[0.3, 0.7]), "seed": 8}, "s")
    other_runs, _other_agents = build_design(other)
    assert {r.run_id for r in runs}.isdisjoint(r.run_id for r in other_runs)
    first = [a.aligned for a in agents[:10]]
    assert first == [a.aligned for a in build_design(study)[1][:10]]


def test_changed_content_hash_changes_run_ids() -> None:
    study = parse_study(small_study_dict(), "s")
    a = expand_design(study, {"en": "h1", "ja": "h2"})
    b = expand_design(study, {"en": "h1-changed", "ja": "h2"})
    changed = {r.run_id for r in a} ^ {r.run_id for r in b}
    assert len(changed) == 2 * sum(r.language == "en" for r in a)


def test_generation_settings_and_planted_effects_enter_the_run_id(monkeypatch) -> None:
    base = small_study_dict()
    runs = {r.run_id for r in build_design(parse_study(base, "s"))[0]}
    warmer = {**base, "models": [{"name": "synthetic-test", "backend": "synthetic", "temperature": 1.0}]}
    assert runs.isdisjoint(r.run_id for r in build_design(parse_study(warmer, "s"))[0])
    # simulation.design holds its own reference to the function, so that is the name to patch
    monkeypatch.setattr("simulation.design.backend_fingerprint", lambda *args: "other-effects")
    assert runs.isdisjoint(r.run_id for r in build_design(parse_study(base, "s"))[0])


def test_a_changed_planted_effect_changes_only_the_runs_of_its_cells(monkeypatch, tmp_path) -> None:
    import yaml

    from simulation.backends import synthetic

    study = parse_study(small_study_dict(languages=["en", "ja"]), "s")
    before = {r.run_id: r.language for r in build_design(study)[0]}
    effects = yaml.safe_load(synthetic.DEFAULT_EFFECTS_PATH.read_text(encoding="utf-8"))
    effects["languages"]["ja"]["alignment_pathology"] += 0.1
    monkeypatch.setattr(synthetic, "load_effects", lambda *args: effects)
    after = {r.run_id: r.language for r in build_design(study)[0]}
    assert {lang for run_id, lang in before.items() if run_id not in after} == {"ja"}
    assert {run_id for run_id, lang in before.items() if lang == "en"} <= set(after)


def test_individuated_agents_only_when_individuation_is_on() -> None:
    study = parse_study(small_study_dict(individuation=[False, True], individuated_agents=3), "s")
    runs, agents = build_design(study)
    for run in runs:
        mine = [a for a in agents if a.run_id == run.run_id]
        assert sum(a.individuated for a in mine) == (3 if run.individuation else 0)


def test_every_model_meets_the_same_group() -> None:
    data = small_study_dict()
    data["models"] = [{"name": "gpt-4o-mini"}, {"name": "qwen3-next-80b-a3b"}]
    runs, _ = build_design(parse_study(data, "s"))
    by_cell: dict[tuple, set[int]] = {}
    for run in runs:
        by_cell.setdefault((run.language, run.aligned_share, run.replicate), set()).add(run.seed)
    assert all(len(seeds) == 1 for seeds in by_cell.values())
    persona_ids = [f"p{i:02d}" for i in range(1, 11)]
    a, b = (r for r in runs if (r.language, r.aligned_share, r.replicate) == ("en", 1.0, 0))
    groups = [[x.persona_id for x in assign_agents(run, persona_ids)] for run in (a, b)]
    assert groups[0] == groups[1]


def test_the_endpoint_enters_the_run_id_and_the_key_variable_does_not() -> None:
    from simulation.content import load_language

    def run_ids(**options: object) -> set[str]:
        data = small_study_dict(languages=["en"])
        data["models"] = [{"name": "gpt", "backend": "openai", **options}]
        return {r.run_id for r in expand_design(parse_study(data, "s"), {"en": load_language("en").content_hash})}

    here = run_ids(base_url="http://127.0.0.1:8000/v1", api_key_env="A_KEY")
    assert here == run_ids(base_url="http://127.0.0.1:8000/v1", api_key_env="B_KEY", transport="sdk")
    assert here.isdisjoint(run_ids(base_url="http://127.0.0.1:9000/v1", api_key_env="A_KEY"))
