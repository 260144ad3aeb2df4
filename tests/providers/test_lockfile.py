"""``llmring.lock``: where it is found, which profile applies, and what a mistake says."""

from __future__ import annotations

from pathlib import Path

import pytest

from llmring_jupyter.providers import ConfigurationError, ModelRef, UnknownModelError, lockfile, resolve

LOCK = """\
version = "1.0"
created_at = "2025-09-27T10:00:00+00:00"
default_profile = "default"

[metadata]
description = "as llmring writes it: metadata and registry_versions are read past"

[profiles.default]
name = "default"

[profiles.default.registry_versions]
openai = 3

[[profiles.default.bindings]]
alias = "chatbot"
models = ["anthropic:claude-3-5-haiku-20241022", "openai:gpt-4o-mini"]

[[profiles.default.bindings]]
alias = "coder"
models = ["openai:gpt-4o"]

[[profiles.dev.bindings]]
alias = "chatbot"
models = ["ollama:llama3.2:3b"]
"""


@pytest.fixture(autouse=True)
def _no_outside_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LLMRING_LOCKFILE_PATH", raising=False)
    monkeypatch.delenv("LLMRING_PROFILE", raising=False)


def _write(folder: Path, text: str = LOCK, name: str = "llmring.lock") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")
    return folder / name


def test_explicit_path_beats_the_environment_and_the_working_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    explicit = _write(tmp_path / "x", name="mine.lock")
    monkeypatch.setenv("LLMRING_LOCKFILE_PATH", str(_write(tmp_path / "env")))
    monkeypatch.chdir(_write(tmp_path / "cwd").parent)
    assert lockfile.find(explicit=explicit) == explicit


def test_environment_variable_beats_the_working_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env = _write(tmp_path / "env", name="team.lock")
    monkeypatch.setenv("LLMRING_LOCKFILE_PATH", str(env))
    monkeypatch.chdir(_write(tmp_path / "cwd").parent)
    assert lockfile.find() == env


def test_working_dir_then_nearest_parent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _write(tmp_path)  # a farther one, which must lose
    project = _write(tmp_path / "project")
    notebooks = tmp_path / "project" / "notebooks" / "deep"
    notebooks.mkdir(parents=True)
    monkeypatch.chdir(project.parent)
    assert lockfile.find() == project.resolve()
    monkeypatch.chdir(notebooks)
    assert lockfile.find() == project.resolve()


def test_missing_explicit_path_says_which(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LLMRING_LOCKFILE_PATH", str(tmp_path / "gone.lock"))
    with pytest.raises(ConfigurationError, match=r"gone\.lock does not exist.*LLMRING_LOCKFILE_PATH"):
        lockfile.find()


@pytest.mark.parametrize(
    ("argument", "env", "expected"),
    [
        (None, None, ("anthropic:claude-3-5-haiku-20241022", "openai:gpt-4o-mini")),  # default_profile
        (None, "dev", ("ollama:llama3.2:3b",)),  # LLMRING_PROFILE
        ("default", "dev", ("anthropic:claude-3-5-haiku-20241022", "openai:gpt-4o-mini")),  # argument wins
    ],
)
def test_profile_from_argument_environment_or_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, argument: str | None, env: str | None, expected: tuple[str, ...]
) -> None:
    if env:
        monkeypatch.setenv("LLMRING_PROFILE", env)
    assert lockfile.load(_write(tmp_path)).aliases(argument)["chatbot"] == expected


def test_default_profile_named_by_the_file(tmp_path: Path) -> None:
    lock = lockfile.load(_write(tmp_path, LOCK.replace('default_profile = "default"', 'default_profile = "dev"')))
    assert lock.aliases()["chatbot"] == ("ollama:llama3.2:3b",)


def test_unknown_profile_lists_the_profiles(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError) as caught:
        lockfile.load(_write(tmp_path)).aliases("prod")
    assert "'prod'" in str(caught.value) and "profiles: default, dev" in str(caught.value)


def test_unknown_alias_lists_the_aliases(tmp_path: Path) -> None:
    path = _write(tmp_path)
    with pytest.raises(UnknownModelError) as caught:
        resolve("chatbott", lockfile_path=path)
    message = str(caught.value)
    assert "'chatbott'" in message and "aliases: chatbot, coder" in message and str(path) in message


def test_unknown_alias_without_a_lockfile_says_none_was_found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UnknownModelError, match=r"no llmring\.lock found"):
        resolve("chatbot")


def test_alias_resolves_to_its_ordered_fallbacks(tmp_path: Path) -> None:
    assert resolve("chatbot", lockfile_path=_write(tmp_path)) == (
        ModelRef("anthropic", "claude-3-5-haiku-20241022"),
        ModelRef("openai", "gpt-4o-mini"),
    )


@pytest.mark.parametrize(
    ("name", "ref"),
    [
        ("ollama:llama3.2:3b", ModelRef("ollama", "llama3.2:3b")),  # split on the first colon only
        ("openai:gpt-4o-mini", ModelRef("openai", "gpt-4o-mini")),
        ("demo", ModelRef("demo", "")),
        ("gemini:gemini-2.5-flash", ModelRef("gemini", "gemini-2.5-flash")),
    ],
)
def test_provider_model_skips_the_lockfile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, ref: ModelRef
) -> None:
    broken = _write(tmp_path, "not toml at all [")  # never read for a provider:model name
    assert resolve(name, lockfile_path=broken) == (ref,)


def test_malformed_toml_is_one_line_naming_the_file(tmp_path: Path) -> None:
    path = _write(tmp_path, 'version = "1.0"\n[[profiles.default.bindings]\nalias = "x"\n')
    with pytest.raises(ConfigurationError) as caught:
        resolve("chatbot", lockfile_path=path)
    message = str(caught.value)
    assert "\n" not in message and str(path) in message and "line 2" in message


def test_binding_without_models_is_a_clear_error(tmp_path: Path) -> None:
    path = _write(tmp_path, '[[profiles.default.bindings]]\nalias = "empty"\n')
    with pytest.raises(ConfigurationError, match="needs an alias and models"):
        lockfile.load(path)
