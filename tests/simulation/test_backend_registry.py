"""Adding a backend is registering it: a toy backend with its own options runs a study through the stages, and
its options are checked (field path, problem, fix) before anything is written or spent."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field

import duckdb
import pytest

from core.errors import StudyConfigError
from core.study import ModelSpec, Options, RunOverrides, parse_study
from simulation.backends import registry
from simulation.backends.base import Backend, GenerationConfig, Message, Reply
from simulation.stages import build_design, check_endpoints, load_study_content, record_design, simulate_study
from tests.test_helpers.studies import small_study_dict
from warehouse.schema import ensure_raw_schema


@pytest.fixture(autouse=True)
def scratch_registry(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Registrations made by a test vanish with it."""
    monkeypatch.setattr(registry, "_BACKENDS", dict(registry._BACKENDS))
    yield


@dataclass
class ParrotBackend(Backend):
    """Every agent says the configured line; no endpoint, no library."""

    line: str = ""
    shout: bool = False
    name: str = field(default="parrot", init=False)

    async def generate(self, messages: list[Message], config: GenerationConfig) -> Reply:
        assert config.context is not None
        talk = self.line.upper() if self.shout else self.line
        text = json.dumps({"talk": f"{talk} (agent {config.context.agent_idx})", "monologue": "I repeat."})
        return Reply(text=text, tokens_in=7, tokens_out=5)


class ParrotOptions(Options):
    line: str
    """What every agent says."""
    shout: bool = False


def _register_parrot(built: list[ParrotOptions] | None = None, fingerprint: registry.Fingerprint | None = None) -> None:
    @registry.register_backend("parrot", options=ParrotOptions, fingerprint=fingerprint)
    def _parrot(model: ModelSpec, options: ParrotOptions) -> Backend:
        if built is not None:
            built.append(options)
        return ParrotBackend(line=options.line, shout=options.shout, max_connections=model.max_concurrency)


def _parrot_study(**model: object) -> dict:
    data = small_study_dict(languages=["en"], replicates=1, n_turns=2)
    data["models"] = [{"name": "parrot-1", "backend": "parrot", "line": "Let us hear him out.", **model}]
    return data


def test_a_registered_backend_runs_a_study_through_the_stages() -> None:
    built: list[ParrotOptions] = []
    _register_parrot(built)
    study = parse_study(_parrot_study(shout="yes", max_concurrency=3), "parrot.yaml")
    con = duckdb.connect()
    ensure_raw_schema(con)
    design = record_design(con, study)
    stats = simulate_study(con, study)
    assert design.runs_inserted == 2 and stats.calls == 2 * 10 * 2 and stats.errors == stats.parse_errors == 0
    assert built and all(o == ParrotOptions(line="Let us hear him out.", shout=True) for o in built)
    talk = con.execute("select distinct text from raw.utterances where channel = 'talk' and agent_idx = 0").fetchall()
    assert talk == [("LET US HEAR HIM OUT. (agent 0)",)]
    assert con.execute("select distinct backend, synthetic from raw.runs").fetchall() == [("parrot", False)]
    stored = json.loads(con.execute("select config_json from raw.studies").fetchone()[0])
    assert stored["models"][0]["line"] == "Let us hear him out."  # the study is stored as written


def test_an_option_the_backend_lacks_names_the_field_and_the_fix() -> None:
    _register_parrot()
    study = parse_study(_parrot_study(gguf_file="x.gguf"), "parrot.yaml")
    with pytest.raises(StudyConfigError) as info:
        load_study_content(study, "parrot.yaml")
    assert str(info.value) == ("parrot.yaml: models[0].gguf_file: not an option of backend 'parrot'. "
                               "Fix: remove it, or use one of line, shout")


def test_a_missing_or_wrong_option_names_the_field_and_the_fix() -> None:
    _register_parrot()
    data = _parrot_study()
    del data["models"][0]["line"]
    with pytest.raises(StudyConfigError) as info:
        load_study_content(parse_study(data, "p.yaml"), "p.yaml")
    assert str(info.value) == ("p.yaml: models[0].line: backend 'parrot' needs a line. "
                               "Fix: add line (what every agent says)")
    with pytest.raises(StudyConfigError) as info:
        load_study_content(parse_study(_parrot_study(shout="loudly"), "p.yaml"), "p.yaml")
    assert info.value.field == "models[0].shout" and "valid boolean" in info.value.problem


def test_the_builtin_backends_name_their_options_in_the_fix() -> None:
    data = small_study_dict()
    data["models"] = [{"name": "synthetic-test"}, {"name": "gpt", "backend": "openai", "gguf_file": "m.gguf"}]
    with pytest.raises(StudyConfigError) as info:
        load_study_content(parse_study(data, "s.yaml"), "s.yaml")
    assert str(info.value) == ("s.yaml: models[1].gguf_file: not an option of backend 'openai'. "
                               "Fix: remove it, or use one of base_url, api_key_env, transport, extra_headers, "
                               "structured_output")
    data["models"] = [{"name": "synthetic-test", "temprature": 0.2}]
    with pytest.raises(StudyConfigError) as info:
        build_design(parse_study(data, "s.yaml"))
    assert info.value.field == "models[0].temprature"
    assert info.value.fix == "did you mean temperature? Otherwise remove it (backend 'synthetic' takes no options)"


def test_check_endpoints_names_the_model_when_its_options_are_wrong() -> None:
    data = small_study_dict()
    data["models"] = [{"name": "synthetic-test"}, {"name": "local", "backend": "transformers", "devise": "cpu"}]
    with pytest.raises(StudyConfigError) as info:
        check_endpoints(parse_study(data, "s.yaml"), "s.yaml")
    assert info.value.file == "s.yaml" and info.value.field == "models[1].devise"
    assert "did you mean device?" in str(info.value)


def test_switching_backend_from_the_command_line_drops_the_old_backends_options() -> None:
    _register_parrot()
    study = parse_study(_parrot_study(shout=True, temperature=0.2), "p.yaml")
    switched = RunOverrides(backend="synthetic").apply(study)
    assert switched.models[0].options() == {} and switched.models[0].temperature == 0.2
    load_study_content(switched)
    endpoint = RunOverrides(base_url="http://127.0.0.1:1/v1", concurrency=4).apply(study)
    assert endpoint.models[0].options()["base_url"] == "http://127.0.0.1:1/v1"
    with pytest.raises(StudyConfigError, match="base_url: not an option of backend 'parrot'"):
        load_study_content(endpoint)


def test_a_registered_fingerprint_enters_the_run_ids_and_the_default_adds_nothing() -> None:
    _register_parrot()
    plain = {r.run_id for r in build_design(parse_study(_parrot_study(), "p"))[0]}
    _register_parrot(fingerprint=lambda model, language: f"weights-v2-{model.name}-{language}")
    fingerprinted = {r.run_id for r in build_design(parse_study(_parrot_study(), "p"))[0]}
    assert len(fingerprinted) == 2 and plain.isdisjoint(fingerprinted)
    assert registry.backend_fingerprint(ModelSpec(name="parrot-1", backend="parrot"), "en") == "weights-v2-parrot-1-en"
    assert registry.backend_fingerprint(ModelSpec(name="x", backend="openai"), "en") == ""


def test_the_synthetic_fingerprint_is_its_planted_profile() -> None:
    from dataclasses import asdict

    from core.ids import stable_hash
    from simulation.backends.synthetic import resolve_profile

    model = ModelSpec(name="gpt-4o-mini")
    assert registry.backend_fingerprint(model, "ja") == stable_hash(asdict(resolve_profile("gpt-4o-mini", "ja")))
    assert registry.backend_fingerprint(model, "ja") != registry.backend_fingerprint(model, "en")
