"""Adding a scorer is registering it: a toy scorer with its own options scores a warehouse through
``score_pending``, and study entries and ``--scorer`` specs are checked against the registered options."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import duckdb
import pytest

from core.errors import BackfireError, StudyConfigError
from core.study import Options, parse_study
from scoring import Scorer, Utterance, build_scorer, check_scorers, registry, score_pending
from scoring.base import Values
from scoring.spec import parse_scorer
from simulation.stages import record_design, simulate_study
from tests.test_helpers.studies import small_study_dict
from warehouse.schema import ensure_raw_schema


@pytest.fixture(autouse=True)
def scratch_registry(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Registrations made by a test vanish with it."""
    monkeypatch.setattr(registry, "_SCORERS", dict(registry._SCORERS))
    yield


class LengthScorer(Scorer):
    name = "length"
    dimensions = ("long",)
    channels = ("talk",)

    def __init__(self, min_chars: int) -> None:
        self.min_chars = min_chars
        self.version = f"1+min{min_chars}"

    def languages(self) -> frozenset[str] | None:
        return frozenset({"en"})

    def model_id(self, language: str) -> str:
        return "characters"

    def score_batch(self, utterances: Sequence[Utterance]) -> list[Values | None]:
        return [{"long": float(len(u.text) >= self.min_chars)} if u.language == "en" else None for u in utterances]


class LengthOptions(Options):
    min_chars: int
    """Characters from which a reply counts as long."""


def _register_length() -> None:
    @registry.register_scorer("length", options=LengthOptions)
    def _length(options: LengthOptions) -> Scorer:
        return LengthScorer(options.min_chars)


def _study_with(*scorers: dict) -> dict:
    return {**small_study_dict(languages=["en", "ja"], replicates=1, n_turns=2), "scorers": list(scorers)}


def test_a_registered_scorer_scores_through_score_pending() -> None:
    _register_length()
    study = parse_study(_study_with({"name": "length", "min_chars": 40}), "s.yaml")
    check_scorers(study.scorers, "s.yaml")
    con = duckdb.connect()
    ensure_raw_schema(con)
    record_design(con, study)
    simulate_study(con, study)
    stats = score_pending(con, build_scorer(study.scorers[0]))
    talk = con.execute("select count(*) from raw.utterances where channel = 'talk'").fetchone()[0]
    assert stats.utterances_scored + stats.utterances_abstained == talk and stats.utterances_abstained == talk / 2
    rows = con.execute("select scorer_version, count(*), count(value) from raw.scores where scorer = 'length' "
                       "group by 1").fetchall()
    assert rows == [("1+min40", talk, talk / 2)]  # ja is outside its coverage: abstained, never guessed
    assert build_scorer(parse_scorer("length?min_chars=40")).version == "1+min40"  # the same spec on the CLI


def test_study_scorer_entries_name_the_field_and_the_fix() -> None:
    _register_length()
    with pytest.raises(StudyConfigError) as info:
        check_scorers(parse_study(_study_with({"name": "length", "min_char": 3}), "s.yaml").scorers, "s.yaml")
    assert str(info.value) == (  # the misspelled key and the option it leaves missing, each with its fix
        "2 problems, each with its fix:\n"
        "  s.yaml: scorers[0].min_char: not an option of scorer 'length'. "
        "Fix: did you mean min_chars? Otherwise remove it, or use one of min_chars\n"
        "  s.yaml: scorers[0].min_chars: scorer 'length' needs a min_chars. "
        "Fix: add min_chars (characters from which a reply counts as long)")
    with pytest.raises(StudyConfigError) as info:
        check_scorers(parse_study(_study_with({"name": "langid"}, {"name": "length"}), "s.yaml").scorers, "s.yaml")
    assert str(info.value) == ("s.yaml: scorers[1].min_chars: scorer 'length' needs a min_chars. "
                               "Fix: add min_chars (characters from which a reply counts as long)")
    with pytest.raises(StudyConfigError) as info:
        check_scorers(parse_study(_study_with({"name": "toxicity", "model": "/x"}), "s.yaml").scorers, "s.yaml")
    assert info.value.field == "scorers[0].name"
    assert info.value.fix == "use one of lexicon-v1.1, langid, classifier, zero-shot, embedding, judge, length"
    with pytest.raises(StudyConfigError, match=r"scorers\[0\]\.labls: not an option of scorer 'classifier'"):
        check_scorers(parse_study(_study_with({"name": "classifier", "model": "/m", "labls": {}}), "s").scorers, "s")


def test_scorer_specs_are_checked_against_the_registry_before_any_model_loads() -> None:
    with pytest.raises(BackfireError) as info:
        parse_scorer("embedding:/models/minilm?batchsize=8")
    assert "batchsize: not an option of scorer 'embedding'" in str(info.value)
    assert "did you mean batch_size?" in str(info.value)
    with pytest.raises(BackfireError, match="langid' takes no options"):
        parse_scorer("langid?languages=en")
    with pytest.raises(BackfireError, match="always runs"):
        parse_scorer("lexicon")
    entry = parse_scorer("classifier:/models/tox?languages=en,de&labels=toxic:pathology&batch_size=8")
    options = registry.scorer_options(entry.name, entry.options())
    assert options.model_dump(exclude_none=True) == {
        "model": "/models/tox", "languages": ["en", "de"], "labels": {"toxic": "pathology"}, "batch_size": 8,
        "device": "auto", "precision": "auto"}


def test_the_shipped_studies_scorers_are_registered() -> None:
    from core.study import load_study
    from tests.conftest import REPO_ROOT

    for path in sorted((REPO_ROOT / "studies").glob("*.yaml")):
        check_scorers(load_study(path).scorers, str(path))
