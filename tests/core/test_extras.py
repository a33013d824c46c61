"""A missing optional dependency is a ``MissingExtraError`` naming the package, the feature and the install
command (one line on the CLI, exit code 2), wherever the library is first needed."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from core.errors import BackfireError, MissingExtraError
from core.extras import require


def _block(monkeypatch: pytest.MonkeyPatch, *modules: str) -> None:
    """Make ``import MODULE`` (and of its submodules, loaded or not) raise ImportError, as if the package were
    not installed."""
    for module in modules:
        monkeypatch.setitem(sys.modules, module, None)
        for loaded in [name for name in sys.modules if name.startswith(f"{module}.")]:
            monkeypatch.setitem(sys.modules, loaded, None)


def test_require_returns_the_module_or_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    aiohttp = require("aiohttp", extra="openai", feature="the lean transport")
    assert aiohttp is sys.modules["aiohttp"]
    _block(monkeypatch, "aiohttp")
    with pytest.raises(MissingExtraError) as caught:
        require("aiohttp", extra="openai", feature="the lean transport")
    assert isinstance(caught.value, BackfireError)
    assert str(caught.value) == ("the lean transport needs the Python package 'aiohttp', which is not installed. "
                                 "Fix: pip install 'alignment-backfire[openai]' (in a source checkout: "
                                 "pip install -e '.[openai]')")
    assert "\n" not in str(caught.value)


def test_require_names_the_top_level_package_of_a_submodule(monkeypatch: pytest.MonkeyPatch) -> None:
    _block(monkeypatch, "transformers")
    with pytest.raises(MissingExtraError, match=r"needs the Python package 'transformers',") as caught:
        require("transformers.utils.logging", extra="hf", feature="model scorers")
    assert caught.value.module == "transformers" and caught.value.extra == "hf"


def test_require_refuses_a_module_that_its_extra_does_not_install() -> None:
    with pytest.raises(ValueError, match="not installed by an extra named 'openai'"):
        require("torch", extra="openai", feature="x")
    with pytest.raises(ValueError, match="extra named 'gpu'"):
        require("torch", extra="gpu", feature="x")


def _scorer(name: str) -> Callable[[Path], object]:
    def build(tmp_path: Path) -> object:
        from scoring import get_scorer

        return get_scorer(name, model=str(tmp_path))

    return build


def _pick_device(tmp_path: Path) -> object:
    from scoring.devices import pick_device

    return pick_device("cpu")


def _backend(name: str, **options: object) -> Callable[[Path], object]:
    def build(tmp_path: Path) -> object:
        from core.study import ModelSpec
        from simulation.backends.registry import backend_for_model

        settings = {key: str(tmp_path) if value is Path else value for key, value in options.items()}
        return backend_for_model(ModelSpec(name=str(settings.pop("model", "m")), backend=name, **settings))

    return build


def _lean_request(tmp_path: Path) -> object:
    from simulation.backends.lean_http import LeanChatClient

    return LeanChatClient("http://127.0.0.1:9/v1", "", timeout_s=1, max_connections=1)._request()


HF_LOADED = pytest.mark.slow  # the blocked module comes after torch/transformers, which then really load

CALL_SITES = [
    pytest.param(_scorer("embedding"), "sentence_transformers", "hf", "the embedding scorer", id="embedding"),
    pytest.param(_scorer("classifier"), "torch", "hf", "the classifier scorer", id="classifier"),
    pytest.param(_scorer("zero-shot"), "torch", "hf", "the zero-shot scorer", id="zero-shot"),
    pytest.param(_scorer("classifier"), "transformers", "hf", "the classifier scorer", id="classifier-transformers",
                 marks=HF_LOADED),
    pytest.param(_pick_device, "torch", "hf", "model scorers", id="scoring-devices"),
    pytest.param(_backend("transformers", model=Path), "torch", "hf", "the transformers backend",
                 id="transformers-backend"),
    pytest.param(_backend("transformers", model=Path), "transformers", "hf", "the transformers backend",
                 id="transformers-backend-transformers", marks=HF_LOADED),
    pytest.param(_backend("transformers", model=Path, gguf_file="model.gguf"), "gguf", "hf",
                 "the transformers backend with a .gguf file", id="transformers-backend-gguf", marks=HF_LOADED),
    pytest.param(_backend("openai", base_url="http://127.0.0.1:9/v1", transport="sdk"), "openai", "openai",
                 "the openai backend", id="openai-sdk"),
    pytest.param(_backend("openai", base_url="http://127.0.0.1:9/v1"), "aiohttp", "openai",
                 "the openai backend's lean transport", id="openai-lean"),
    pytest.param(_lean_request, "httpx2", "openai", "the openai backend's lean transport", id="lean-http-errors"),
]


@pytest.mark.parametrize(("build", "module", "extra", "feature"), CALL_SITES)
def test_every_optional_import_names_its_extra(build, module: str, extra: str, feature: str, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    _block(monkeypatch, module)
    with pytest.raises(MissingExtraError) as caught:
        build(tmp_path)
    assert str(caught.value).startswith(f"{feature} needs the Python package '{module}', which is not installed")
    assert f"pip install 'alignment-backfire[{extra}]'" in str(caught.value)
    assert f"pip install -e '.[{extra}]'" in str(caught.value)


def test_the_cli_prints_a_missing_extra_in_one_line_and_exits_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    from cli.main import main

    _block(monkeypatch, "sentence_transformers")
    code = main(["score", "--scorer", f"embedding:{tmp_path}?languages=en", "--db", str(tmp_path / "w.duckdb"),
                 "--no-marts"])
    captured = capsys.readouterr()
    assert code == 2 and captured.out == ""
    assert captured.err == ("error: the embedding scorer needs the Python package 'sentence_transformers', which is "
                            "not installed. Fix: pip install 'alignment-backfire[hf]' (in a source checkout: "
                            "pip install -e '.[hf]')\n")
