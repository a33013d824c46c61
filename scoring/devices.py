"""Where a model scorer runs and how its inputs are batched: the GPU hot path in one place."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from core.extras import require

PRECISIONS = ("fp32", "fp16", "bf16")


def pick_device(requested: str = "auto", precision: str = "auto") -> tuple[str, Any]:
    """Device and dtype, by the rule the local-model backend uses (CUDA with bf16, fp16 where bf16 is
    unsupported, else CPU float32); ``precision`` other than ``auto`` forces the dtype."""
    torch = require("torch", extra="hf", feature="model scorers")

    from simulation.backends.transformers_local import pick_device as pick_for_models

    device, dtype = pick_for_models(torch, requested, field="device")
    if precision != "auto":
        dtype = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}[precision]
    return device, dtype


def length_sorted_batches(texts: Sequence[str], batch_size: int) -> Iterator[list[int]]:
    """Indices of ``texts`` in batches of similar length, longest first: padding is what a GPU wastes."""
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]), reverse=True)
    for start in range(0, len(order), batch_size):
        yield order[start:start + batch_size]
