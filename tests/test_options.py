"""The %%llm line: every option parsed, every mistake one usage line."""

from __future__ import annotations

import pytest

from llmring_jupyter.options import CellOptions, parse
from llmring_jupyter.providers.errors import UsageError


def test_all_options() -> None:
    line = "ollama:llama3.2:3b --system 'Be brief, please' --temperature 0.2 --max-tokens 50 --format code"
    assert parse(line) == CellOptions("ollama:llama3.2:3b", "Be brief, please", 0.2, 50, "code")


def test_provider_options_are_json_or_text() -> None:
    opts = parse("demo -o tokens=2000 --option delay=0 -o stop='[\"x\"]' -o user=alice")
    assert opts.provider_options == (("tokens", 2000), ("delay", 0), ("stop", ["x"]), ("user", "alice"))


def test_defaults_and_help() -> None:
    assert parse("") == CellOptions()
    assert parse("--help") is None and parse("demo -h") is None


@pytest.mark.parametrize(
    "line",
    [
        "--temperature 3",
        "--temperature x",
        "--max-tokens -1",
        "--max-tokens 1.5",
        "--format pdf",
        "demo extra",
        "--bogus",
        "--system",
        "'open",
        "--max",
        "-o novalue",
        "-o =3",
    ],
)
def test_mistakes_are_one_line_usage_errors(line: str) -> None:
    with pytest.raises(UsageError) as info:
        parse(line)
    assert "\n" not in str(info.value) and "help" in str(info.value)
