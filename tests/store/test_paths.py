"""Where the store is when `LLMTAP_STORE` is not set: the config file's `store`, else `.llmtap/llmtap.db`; the
config file is read only when it may define `[tool.llmtap]` (`config_may_set_store`)."""

from __future__ import annotations

import itertools
import tomllib
from pathlib import Path

import pytest

from llmtap.config import load_settings
from llmtap.store import open_store
from llmtap.store.paths import as_path_text, config_may_set_store, store_path

DEFINES_LLMTAP = [
    '[tool.llmtap]\nstore = "traces.db"\n',
    "[tool.llmtap.labels.user_id]\nrequired = true\n",
    '[tool."llmtap"]\nstore = "traces.db"\n',
    "[tool.'llmtap']\nstore = 'traces.db'\n",
    '[ tool . llmtap ]\nstore = "traces.db"\n',
    'tool.llmtap.store = "traces.db"\n',
    '[tool]\nllmtap = { store = "traces.db" }\n',
    '[tool]\nllmtap.store = "traces.db"\n',
    '[tool]\n"llmtap" = { store = "traces.db" }\n',
    '[project]\nname = "shop"\ndependencies = ["openai", "llmtap"]\n[tool.llmtap]\nstore = "traces.db"\n',
]
NO_LLMTAP = [
    '[project]\nname = "shop"\ndependencies = ["llmtap", "openai"]\n',
    '[project]\nname = "shop"\ndependencies = ["llmtap==0.1.0", "llmtap-openai>=0.1"]\n',
    '[project]\nname = "shop"\n[tool.ruff]\nline-length = 120\n',
    "",
]


@pytest.mark.parametrize("text", DEFINES_LLMTAP)
def test_a_pyproject_defining_tool_llmtap_is_read(text: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert "llmtap" in tomllib.loads(text).get("tool", {})
    (tmp_path / "pyproject.toml").write_text(text)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LLMTAP_STORE", raising=False)
    monkeypatch.delenv("LLMTAP_CONFIG", raising=False)

    assert config_may_set_store() is True
    assert store_path() == Path(load_settings().store)


@pytest.mark.parametrize("text", NO_LLMTAP)
def test_a_pyproject_without_tool_llmtap_leaves_the_default(
    text: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert "llmtap" not in tomllib.loads(text).get("tool", {})
    (tmp_path / "pyproject.toml").write_text(text)
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path / "sub")  # found from a folder below, as the settings find it
    monkeypatch.delenv("LLMTAP_STORE", raising=False)
    monkeypatch.delenv("LLMTAP_CONFIG", raising=False)

    assert config_may_set_store() is False
    assert store_path() == Path(".llmtap/llmtap.db") == Path(load_settings().store)


def test_the_environment_and_llmtap_config_win(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.llmtap]\nstore = "from-pyproject.db"\n')
    (tmp_path / "llmtap.toml").write_text('store = "from-config.db"\n')
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LLMTAP_CONFIG", str(tmp_path / "llmtap.toml"))
    monkeypatch.setenv("LLMTAP_STORE", "  ")  # blank: not set

    assert store_path() == Path("from-config.db")
    monkeypatch.setenv("LLMTAP_STORE", " ~/traces.db ")
    assert store_path() == Path.home() / "traces.db"
    monkeypatch.setenv("LLMTAP_STORE", "OFF")
    assert store_path() is None


def test_a_path_is_shown_as_pathlib_shows_it() -> None:
    parts = ["", ".", "..", "/", "a", "b.db", "//", "./", "x/"]
    texts = ["".join(combo) for count in range(1, 5) for combo in itertools.product(parts, repeat=count)]

    assert [as_path_text(text) for text in texts] == [str(Path(text)) for text in texts]


def test_the_store_keeps_its_path_as_pathlib_shows_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LLMTAP_STORE", "./data//traces.db")

    assert store_path() == Path("data/traces.db")
    store = open_store()
    assert store.path == "data/traces.db"
    store.close()
    reopened = open_store(Path("data") / "traces.db", create=False)
    assert reopened.path == "data/traces.db"
    reopened.close()
