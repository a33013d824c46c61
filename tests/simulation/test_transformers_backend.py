"""The transformers backend on a tiny random-weight Llama built here (no download): batching, seeding,
accounting, device choice. Random weights say nothing: only the plumbing is asserted."""

from __future__ import annotations

import asyncio
from pathlib import Path
from types import SimpleNamespace

import duckdb
import pytest

from core.errors import StudyConfigError
from simulation.backends.base import GenerationConfig, Message
from tests.test_helpers.studies import small_study_dict

pytest.importorskip("torch")
pytest.importorskip("transformers")
pytestmark = pytest.mark.slow


def _backend(path: Path, max_concurrency: int = 32):
    from core.study import ModelSpec
    from simulation.backends.registry import backend_for_model

    return backend_for_model(ModelSpec(name=str(path), backend="transformers", device="cpu",
                                       max_concurrency=max_concurrency))


def _ask(backend, seeds: list[int], max_tokens: int = 12) -> list:
    async def go() -> list:
        configs = [GenerationConfig(model="tiny", temperature=0.9, max_tokens=max_tokens, seed=s) for s in seeds]
        messages = [[Message("system", "You are Ana."), Message("user", f"Turn {i}: what do you say?")]
                    for i in range(len(seeds))]
        return await asyncio.gather(*(backend.generate(m, c) for m, c in zip(messages, configs, strict=True)))

    return asyncio.run(go())


def test_concurrent_calls_share_one_generate_and_a_draw_depends_on_its_seed_not_its_batch(tiny_llama) -> None:
    backend = _backend(tiny_llama)
    together = _ask(backend, [11, 12, 13, 14, 15, 16, 17, 18, 19, 20])
    assert backend.batches == [10]  # the ten agents of a turn went through one generate call
    alone = _ask(backend, [11])
    assert backend.batches == [10, 1]
    assert alone[0].text == together[0].text  # same seed, same draw, whatever else shared the batch
    assert len({r.text for r in together}) > 1  # different seeds, different draws
    for reply in together:  # a reply that reached max_tokens was cut off there: truncated, its text kept
        assert reply.status == ("truncated" if reply.tokens_out == 12 else "ok")
        assert 0 < reply.tokens_out <= 12 and reply.tokens_in > 5 and reply.text


def test_batches_are_capped_at_the_models_concurrency(tiny_llama) -> None:
    backend = _backend(tiny_llama, max_concurrency=4)
    replies = _ask(backend, list(range(10)), max_tokens=4)
    assert sorted(backend.batches) == [2, 4, 4] and len(replies) == 10


def test_a_study_runs_end_to_end_on_the_local_model(tiny_llama) -> None:
    from core.study import parse_study
    from simulation.stages import record_design, simulate_study
    from warehouse.schema import ensure_raw_schema

    data = small_study_dict(languages=["en", "ja"], replicates=1, aligned_shares=[0.0, 1.0], n_turns=2)
    data["models"] = [{"name": str(tiny_llama), "backend": "transformers", "max_tokens": 8, "max_reasks": 0,
                       "device": "cpu", "max_concurrency": 40, "structured_output": "none"}]
    con = duckdb.connect()
    ensure_raw_schema(con)
    study = parse_study(data, "s")
    record_design(con, study)
    stats = simulate_study(con, study)
    assert stats.calls == 4 * 2 * 10 and stats.errors == 0
    rows = con.execute("select count(*), count(distinct utterance_id), bool_and(tokens_out > 0), "
                       "bool_and((status = 'truncated') = (tokens_out >= 8)), "
                       "bool_and(status in ('ok', 'parse_error', 'truncated')) "
                       "from raw.utterances where channel = 'talk'").fetchone()
    # random weights write no JSON: kept verbatim as parse_error, or as truncated when cut off at max_tokens
    assert rows == (80, 80, True, True, True)
    again = simulate_study(con, study)
    assert again.calls == 0  # complete runs are not generated again


def test_device_is_cuda_with_bf16_when_present_else_cpu_float32() -> None:
    import torch

    from simulation.backends.transformers_local import pick_device

    def fake(cuda: bool, bf16: bool) -> SimpleNamespace:
        return SimpleNamespace(cuda=SimpleNamespace(is_available=lambda: cuda, is_bf16_supported=lambda: bf16),
                               bfloat16=torch.bfloat16, float16=torch.float16, float32=torch.float32)

    assert pick_device(fake(True, True)) == ("cuda", torch.bfloat16)
    assert pick_device(fake(True, False)) == ("cuda", torch.float16)
    assert pick_device(fake(False, False)) == ("cpu", torch.float32)
    with pytest.raises(StudyConfigError, match="CUDA is not available"):
        pick_device(fake(False, False), "cuda:0")


def test_a_missing_model_fails_before_any_call(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(StudyConfigError, match="does not exist"):
        _backend(tmp_path / "nowhere")
    with pytest.raises(StudyConfigError, match="not in the local Hugging Face cache"):
        _backend(Path("someone/not-a-cached-model"))


def test_calls_arriving_while_a_batch_generates_join_the_next_batch(tiny_llama) -> None:
    backend = _backend(tiny_llama, max_concurrency=32)

    async def run(i: int) -> None:
        for turn in range(3):
            await asyncio.sleep(0.002 * i)  # runs drift apart, as they do in a study
            configs = [GenerationConfig(model="tiny", temperature=0.7, max_tokens=6, seed=100 * i + 10 * turn + a)
                       for a in range(3)]
            await asyncio.gather(*(backend.generate([Message("user", f"run {i} turn {turn}")], c) for c in configs))

    async def go() -> None:
        await asyncio.gather(*(run(i) for i in range(10)))
        await backend.aclose()

    asyncio.run(go())
    assert sum(backend.batches) == 90 and max(backend.batches) <= 32
    assert len(backend.batches) < 30  # one batch per arrival would be 30 batches of 3


def test_a_call_without_a_seed_is_greedy(tiny_llama) -> None:
    backend = _backend(tiny_llama)

    async def ask(temperature: float, seed: int | None) -> str:
        config = GenerationConfig(model="tiny", temperature=temperature, max_tokens=10, seed=seed)
        return (await backend.generate([Message("user", "What do you say?")], config)).text

    async def go() -> list[str]:
        return [await ask(0.9, None), await ask(0.9, None), await ask(0.0, 5)]

    unseeded, again, greedy = asyncio.run(go())
    assert unseeded == again == greedy
