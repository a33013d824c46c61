"""Where a model scorer runs and how its inputs are batched: the GPU hot path in one place."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from simulation.errors import BackfireError


def pick_device(requested: str = "auto") -> str:
    """``auto``: CUDA when present, else CPU; an explicit CUDA device without CUDA is a clear error."""
    import torch

    if requested == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if requested.startswith("cuda") and not torch.cuda.is_available():
        raise BackfireError(f"device '{requested}' was asked for but CUDA is not available", field="device",
                            fix="use device=auto (or cpu) on this machine")
    return requested


def pick_dtype(device: str, precision: str = "auto") -> Any:
    """bf16 on CUDA (fp16 where bf16 is unsupported), float32 on CPU; ``precision`` forces one."""
    import torch

    if precision != "auto":
        return {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}[precision]
    if device.startswith("cuda"):
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.float32


def length_sorted_batches(texts: Sequence[str], batch_size: int) -> Iterator[list[int]]:
    """Indices of ``texts`` in batches of similar length, longest first: padding is what a GPU wastes."""
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]), reverse=True)
    for start in range(0, len(order), batch_size):
        yield order[start:start + batch_size]
