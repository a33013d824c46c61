"""Scoring throughput: utterances per second per scorer, on the CPU here or on a CUDA machine.

Texts are real synthetic utterances in all 16 languages (simulated on the spot, no network). Model scorers
use random-weight models of real sizes built locally: an XLM-R-base-sized classifier (12 layers, hidden 768,
250,002-token vocabulary: the compute of a multilingual XLM-R toxicity model) and a MiniLM-L12-sized
sentence embedder (12 layers, hidden 384); random weights cost what trained ones cost. Their tokenizer is a
small Unigram model trained on the texts, which splits finer than XLM-R's (more tokens per utterance, so
these figures are conservative); the mean tokens per utterance is printed.

    .venv/bin/python bench/scoring.py                          # CPU: lexicon, langid, tiny + base models
    .venv/bin/python bench/scoring.py --lexicons-only           # lexicon v1 and v1.1 (metric v1.1) only
    .venv/bin/python bench/scoring.py --device cuda --utterances 20000 --batch-size 256   # a GPU machine
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

LANGUAGES = ["en", "de", "fr", "es", "pt", "tr", "id", "vi", "ru", "ar", "hi", "bn", "ja", "zh", "ko", "th"]


def _utterances(n: int) -> list:
    """``n`` stored utterances (talk and monologue) of a 16-language synthetic study, cycled if needed."""
    import duckdb

    from scoring.base import Utterance
    from tests.test_helpers.studies import fill_warehouse

    con = duckdb.connect()
    fill_warehouse(con, languages=LANGUAGES, replicates=1, n_turns=15)
    rows = con.execute("""select u.utterance_id, r.language, u.channel, u.text, u.run_id, u.turn, u.agent_idx
                          from raw.utterances u join raw.runs r using (run_id) order by u.utterance_id""").fetchall()
    return [Utterance(*rows[i % len(rows)]) for i in range(n)]


def _rate(label: str, n: int, seconds: float, extra: str = "") -> None:
    print(f"{label:<44} {n:>8,} utt {seconds:>8.2f} s {n / seconds:>12,.0f} utt/s  {extra}", flush=True)


def _time(fn, *args) -> float:
    started = time.perf_counter()
    fn(*args)
    return time.perf_counter() - started


def _through_runner(scorer, sample: list) -> tuple[int, float]:
    """The whole incremental path: pending query, scoring, long-format rows, one insert per batch."""
    import duckdb

    from scoring import score_pending
    from tests.test_helpers.studies import fill_warehouse

    con = duckdb.connect()
    fill_warehouse(con, languages=LANGUAGES, replicates=1, n_turns=15)
    con.execute("delete from raw.scores")
    n = con.execute("select count(*) from raw.utterances").fetchone()[0]
    return n, _time(score_pending, con, scorer)


def _stance_lexicon(sample: list) -> None:
    """Metric v1.1 beside v1: overall, per language (its analyzer), and through the runner (with the echo
    history read from DuckDB). Analyzers load first; word caches are warm after one pass, as in a long scoring run."""
    from scoring import get_scorer

    stance = get_scorer("lexicon-v1.1")
    started = time.perf_counter()
    stance.score_batch(sample)  # loads the 16 analyzers and dictionaries, fills the word caches
    print(f"lexicon-v1.1: analyzers loaded and first pass in {time.perf_counter() - started:.1f} s")
    _rate("lexicon-v1.1 (one core, warm)", len(sample), _time(stance.score_batch, sample))
    by_language: dict[str, list] = {}
    for utterance in sample:
        by_language.setdefault(utterance.language, []).append(utterance)
    for language, utterances in sorted(by_language.items()):
        _rate(f"  lexicon-v1.1 {language}", len(utterances), _time(stance.score_batch, utterances),
              stance.model_id(language).split(";")[1])
    _rate("lexicon-v1.1 via score_pending (with echo history)", *_through_runner(stance, sample))


def _base_sized_classifier(folder: Path, texts: list[str], layers: int, hidden: int, heads: int,
                           intermediate: int, labels: list[str]) -> Path:
    import torch
    from transformers import XLMRobertaConfig, XLMRobertaForSequenceClassification

    from tests.test_helpers.tiny_models import _unigram_xlmr_tokenizer

    tokenizer = _unigram_xlmr_tokenizer(folder)
    config = XLMRobertaConfig(vocab_size=250_002, hidden_size=hidden, num_hidden_layers=layers,
                              num_attention_heads=heads, intermediate_size=intermediate, max_position_embeddings=514,
                              pad_token_id=tokenizer.pad_token_id, num_labels=len(labels),
                              id2label=dict(enumerate(labels)), label2id={x: i for i, x in enumerate(labels)},
                              languages=LANGUAGES)
    torch.manual_seed(0)
    XLMRobertaForSequenceClassification(config).save_pretrained(folder)
    return folder


def _minilm_sized_embedder(folder: Path) -> Path:
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Pooling, Transformer
    from transformers import XLMRobertaConfig, XLMRobertaModel

    from tests.test_helpers.tiny_models import _unigram_xlmr_tokenizer

    base = folder / "encoder"
    tokenizer = _unigram_xlmr_tokenizer(base)
    torch.manual_seed(0)
    XLMRobertaModel(XLMRobertaConfig(vocab_size=250_002, hidden_size=384, num_hidden_layers=12,
                                     num_attention_heads=12, intermediate_size=1536, max_position_embeddings=514,
                                     pad_token_id=tokenizer.pad_token_id, languages=LANGUAGES)).save_pretrained(base)
    encoder = Transformer(str(base), max_seq_length=256)
    SentenceTransformer(modules=[encoder, Pooling(encoder.get_embedding_dimension(), "mean")]).save(str(folder))
    return folder


def main() -> None:
    from scoring import get_scorer

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--utterances", type=int, default=20_000, help="texts for lexicon and langid")
    parser.add_argument("--model-utterances", type=int, default=2_000, help="texts for the model scorers")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--base-utterances", type=int, default=None,
                        help="texts for the base-sized models (default: --model-utterances on CUDA, 200 on CPU)")
    parser.add_argument("--skip-base", action="store_true", help="skip the XLM-R-base / MiniLM-sized models")
    parser.add_argument("--lexicons-only", action="store_true", help="lexicon v1 and v1.1 only (no torch)")
    args = parser.parse_args()
    if args.lexicons_only:
        sample = _utterances(args.utterances)
        lexicon = get_scorer("lexicon")
        lexicon.score_batch(sample[:500])
        _rate("lexicon (one core)", len(sample), _time(lexicon.score_batch, sample))
        _stance_lexicon(sample)
        return

    import torch

    from scoring.devices import pick_device

    device, _ = pick_device(args.device)
    if device == "cpu":
        torch.set_num_threads(os.cpu_count() or 1)
    name = torch.cuda.get_device_name(0) if device.startswith("cuda") else f"CPU, {os.cpu_count()} cores"
    print(f"device: {device} ({name}); torch {torch.__version__}; batch size {args.batch_size}")
    utterances = _utterances(max(args.utterances, args.model_utterances))

    lexicon = get_scorer("lexicon")
    lexicon.score_batch(utterances[:500])  # compile the 16 lexicons once
    sample = utterances[:args.utterances]
    _rate("lexicon (one core)", len(sample), _time(lexicon.score_batch, sample))
    _rate("lexicon via score_pending (DuckDB in + out)", *_through_runner(lexicon, sample))
    _stance_lexicon(sample)
    langid = get_scorer("langid")
    langid.score_batch(sample[:100])
    _rate("langid (py3langid, one core)", len(sample), _time(langid.score_batch, sample))

    texts = [u.text for u in utterances[:args.model_utterances]]
    base_n = args.base_utterances or (args.model_utterances if device.startswith("cuda") else 200)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        from tests.test_helpers.tiny_models import build_tiny_xlmr_classifier

        models = [("classifier, tiny XLM-R (2 layers, h32)",
                   build_tiny_xlmr_classifier(root / "tiny", ["non-toxic", "toxic"], LANGUAGES),
                   utterances[:args.model_utterances])]
        if not args.skip_base:
            models.append(("classifier, XLM-R-base size (12 layers, h768)",
                            _base_sized_classifier(root / "base", texts, 12, 768, 12, 3072, ["non-toxic", "toxic"]),
                            utterances[:base_n]))
        for label, folder, talk in models:
            scorer = get_scorer("classifier", model=str(folder), batch_size=args.batch_size, device=device)
            tokens = scorer.classifier.tokenizer(texts[:500])["input_ids"]
            scorer.score_batch(talk[:args.batch_size])  # warm-up (CUDA context, kernels)
            if device.startswith("cuda"):
                torch.cuda.synchronize()
            _rate(f"{label} [{scorer.classifier.model.dtype}]", len(talk), _time(scorer.score_batch, talk),
                  f"mean {sum(map(len, tokens)) / len(tokens):.0f} tokens/utt")
        if not args.skip_base:
            from scoring.base import Utterance

            embedder = get_scorer("embedding", model=str(_minilm_sized_embedder(root / "minilm")),
                                  batch_size=args.batch_size, device=device, languages=LANGUAGES)
            groups: dict[tuple[str, int], list[Utterance]] = {}
            talk = utterances[:base_n]
            for u in talk:
                groups.setdefault((u.run_id, u.turn), []).append(u)
            embedder.score_groups(list(groups.values())[:5])
            _rate("embedding, MiniLM-L12 size (12 layers, h384)", len(talk),
                  _time(embedder.score_groups, list(groups.values())))


if __name__ == "__main__":
    main()
