"""Model scorers truncate at the longest input the model takes: min(configured, the tokenizer's real limit,
the position embeddings' limit). A tiny XLM-R with 130 positions takes 128 tokens (positions start after the
padding index); truncating its ~400-token inputs at 256 used to fail with "index 130 is out of bounds"."""

from __future__ import annotations

import math
from pathlib import Path
from types import SimpleNamespace

import duckdb
import pytest

from scoring import build_scorer, get_scorer, score_pending
from scoring.base import Utterance
from scoring.hf_models import fingerprint
from scoring.spec import parse_scorer
from tests.test_helpers.studies import fill_warehouse

pytestmark = pytest.mark.slow  # torch, transformers, sentence-transformers

SENTENCE = "We will follow the rule together, and we should listen to him before anyone decides. "


def _long_text(tokenizer, tokens: int = 400) -> str:
    """English text of about ``tokens`` tokens (special tokens included) under ``tokenizer``."""
    per_sentence = len(tokenizer(SENTENCE, add_special_tokens=False)["input_ids"])
    text = SENTENCE * math.ceil(tokens / per_sentence)
    assert tokens <= len(tokenizer(text)["input_ids"]) < tokens + per_sentence + 2
    return text


def _in_unit_range(values: dict[str, float | None]) -> bool:
    return all(v is not None and 0.0 <= v <= 1.0 for v in values.values())


def test_classifier_truncates_400_token_texts_at_the_models_128_tokens(short_context_models):
    scorer = get_scorer("classifier", model=str(short_context_models["classifier"]), batch_size=8)
    text = _long_text(scorer.classifier.tokenizer)
    utterances = [Utterance(f"u{i}", "en", "talk", text[:len(text) * (i + 1) // 16]) for i in range(16)]
    values = scorer.score_batch(utterances)
    assert all(v is not None and _in_unit_range(v) for v in values)
    assert all(v["pathology"] == v["label.toxic"] for v in values if v)
    assert scorer.classifier.max_length == 128 and scorer.provenance()["max_length"] == 128


def test_zero_shot_truncates_text_and_hypothesis_pairs_at_128_tokens(short_context_models):
    scorer = get_scorer("zero-shot", model=str(short_context_models["nli"]))
    text = _long_text(scorer.classifier.tokenizer)
    values = scorer.score_batch([Utterance("a", "en", "talk", text), Utterance("b", "en", "monologue", text[:80])])
    assert scorer.classifier.max_length == 128 and scorer.provenance()["max_length"] == 128
    for scored in values:
        assert scored is not None and _in_unit_range(scored)
        assert scored["pathology"] == max(scored[f"category.{c}"] for c in scorer.groups["pathology"])


def test_embedding_caps_sentence_transformers_at_the_position_limit(short_context_models):
    from sentence_transformers import SentenceTransformer

    path = str(short_context_models["embedding"])
    assert SentenceTransformer(path, device="cpu").max_seq_length == 130  # what sentence-transformers derives
    scorer = get_scorer("embedding", model=path)
    assert scorer.max_length == scorer.model.max_seq_length == scorer.provenance()["max_length"] == 128
    text = _long_text(scorer.model.tokenizer)
    group = [Utterance(f"t{i}", "en", "talk", f"{i} {text}", run_id="r", turn=1, agent_idx=i) for i in range(3)]
    group.append(Utterance("m0", "en", "monologue", text[:300], run_id="r", turn=1, agent_idx=0))
    values = scorer.score_groups([group])
    assert set(values) == {"t0", "t1", "t2"}
    assert all(-1.0 - 1e-6 <= v["semantic_conformity"] <= 1.0 + 1e-6 for v in values.values())
    assert -1e-6 <= values["t0"]["semantic_dissociation"] <= 2.0 + 1e-6
    assert values["t1"]["semantic_dissociation"] is None  # no monologue of its own


def test_the_truncation_length_enters_the_version_only_where_it_changes_values(short_context_models, tiny_models):
    path = str(short_context_models["classifier"])
    default = get_scorer("classifier", model=path)
    capped = get_scorer("classifier", model=path, max_length=1000)
    shorter = build_scorer(parse_scorer(f"classifier:{path}?max_length=64"))  # as the CLI and a study give it
    assert capped.provenance()["max_length"] == 128 and capped.version == default.version  # same truncation
    assert shorter.provenance()["max_length"] == 64 and shorter.version != default.version
    # a model that takes more than 256 tokens truncates at 256 as before and keeps its earlier version (and rows)
    roomy_path = str(tiny_models["classifier"])
    roomy = get_scorer("classifier", model=roomy_path)
    assert roomy.provenance()["max_length"] == 256
    assert roomy.version == "1+" + fingerprint(roomy_path, roomy.classifier.revision, sorted(roomy.label_map.items()))


def test_a_stored_study_scored_with_a_130_position_classifier_has_a_row_per_covered_utterance(
        short_context_models, tmp_path: Path):
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        fill_warehouse(con, languages=["en", "ja"], replicates=1, n_turns=2)
        scorer = build_scorer(parse_scorer(f"classifier:{short_context_models['classifier']}?batch_size=16"))
        texts = [row[0] for row in con.execute("select text from raw.utterances").fetchall()]
        assert max(len(scorer.classifier.tokenizer(t)["input_ids"]) for t in texts) > 128  # truncation is exercised
        stats = score_pending(con, scorer)
        english, unscored = con.execute("""
            select count(*), count(*) filter (where not exists (
                select 1 from raw.scores s where s.utterance_id = u.utterance_id and s.scorer = 'classifier'
                  and s.dimension = 'pathology' and not s.abstained and s.value between 0 and 1))
            from raw.utterances u join raw.runs r using (run_id) where r.language = 'en'""").fetchone()
        assert english > 0 and unscored == 0 and stats.utterances_scored == english
        japanese = con.execute("select count(*) from raw.utterances u join raw.runs r using (run_id) "
                               "where r.language = 'ja'").fetchone()[0]
        assert stats.utterances_abstained == japanese > 0


def test_position_limits_by_architecture_and_unknown_limits():
    from transformers import BertConfig, BertModel

    from core.errors import BackfireError
    from scoring.hf_models import effective_max_length, position_limit, stated_limit

    class Bare:  # a model without position embeddings or a position attribute in its config
        def __init__(self, **config: object) -> None:
            self.config = SimpleNamespace(**config)

        def modules(self) -> list:
            return []

    bert = BertModel(BertConfig(vocab_size=50, hidden_size=8, num_hidden_layers=1, num_attention_heads=1,
                                intermediate_size=8, max_position_embeddings=64))
    assert position_limit(bert) == 64  # BERT numbers positions from 0
    assert position_limit(Bare(n_positions=1024)) == 1024  # GPT-2 style config
    assert position_limit(Bare()) is None and position_limit(Bare(max_position_embeddings=-1)) is None  # XLNet: -1
    assert stated_limit(int(1e30)) is None and stated_limit(None) is None  # a tokenizer's "unknown"
    assert stated_limit(100) == 100
    assert effective_max_length(256, int(1e30), Bare()) == 256
    assert effective_max_length(256, 100, bert) == 64
    assert effective_max_length(80, 100, Bare(n_positions=1024)) == 80
    assert effective_max_length(None, None, Bare()) is None
    with pytest.raises(BackfireError, match="max_length must be positive"):
        effective_max_length(0, None, bert)
