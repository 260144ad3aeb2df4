"""The %%llm line and chat()'s keywords: every option parsed, every mistake one usage line."""

from __future__ import annotations

import dataclasses

import pytest

from llmring_jupyter.answer.options import Options, parse
from llmring_jupyter.exceptions import UsageError
from llmring_jupyter.notebook import commands


def test_all_options() -> None:
    line = (
        "ollama:llama3.2:3b --system 'Be brief, please' --temperature 0.2 --max-tokens 50 --format code "
        "--chat notes --new --out answer"
    )
    assert parse(line) == Options(
        models=("ollama:llama3.2:3b",),
        system="Be brief, please",
        temperature=0.2,
        max_tokens=50,
        format="code",
        conversation="notes",
        new=True,
        out="answer",
    )
    assert parse("--no-history --dry-run") == Options(history=False, dry_run=True)


def test_provider_options_are_json_or_text() -> None:
    opts = parse("demo -o tokens=2000 --option delay=0 -o stop='[\"x\"]' -o user=alice")
    assert opts is not None
    assert opts.provider_options == (("tokens", 2000), ("delay", 0), ("stop", ["x"]), ("user", "alice"))


def test_several_models_anywhere_on_the_line_answer_side_by_side() -> None:
    opts = parse("openai:gpt-4o-mini --temperature 0.2 anthropic:claude-haiku-4 ollama:llama3.2")
    assert opts is not None and opts.models == ("openai:gpt-4o-mini", "anthropic:claude-haiku-4", "ollama:llama3.2")
    assert opts.model == "openai:gpt-4o-mini" and opts.temperature == 0.2
    assert parse("") == Options(models=()) and Options().model is None


def test_background_from_the_line_and_from_chat_keywords() -> None:
    assert parse("demo --background") == Options(models=("demo",), background=True)
    assert Options.of("demo", {"background": True}) == Options(models=("demo",), background=True)
    assert Options.of(None, {}).background is False


def test_defaults_and_help() -> None:
    assert parse("") == Options()
    assert parse("--help") is None and parse("demo -h") is None


@pytest.mark.parametrize(
    "line",
    [
        "--temperature 3",
        "--temperature x",
        "--max-tokens -1",
        "--max-tokens 0",
        "--max-tokens 1.5",
        "--format pdf",
        "demo extra --background",
        "demo extra --dry-run",
        "--bogus",
        "--system",
        "'open",
        "--max",
        "-o novalue",
        "-o =3",
        "--out 2x",
        "--out class",
        "--new --no-history",
    ],
)
def test_mistakes_are_one_line_usage_errors(line: str) -> None:
    with pytest.raises(UsageError) as info:
        parse(line)
    assert "\n" not in str(info.value) and "help" in str(info.value)


def test_chat_keywords_are_the_line_options_and_the_rest_go_to_the_provider() -> None:
    opts = Options.of("demo", {"conversation": "notes", "temperature": 0.5, "delay": 0, "provider_options": [("a", 1)]})
    assert opts.conversation == "notes" and opts.temperature == 0.5
    assert opts.provider_options == (("a", 1), ("delay", 0))


@pytest.mark.parametrize("keywords", [{"format": "pdf"}, {"temperature": 5}, {"max_tokens": 0}, {"out": "x"}])
def test_chat_keywords_meet_the_same_rules_as_the_line(keywords: dict[str, object]) -> None:
    with pytest.raises(UsageError):
        Options.of(None, keywords)


def test_help_lists_every_option_from_its_declaration() -> None:
    text = commands.help_text()
    for f in dataclasses.fields(Options):
        if "flag" in f.metadata:
            flag = f.metadata["flag"]
            assert ", ".join(flag.names) in text and flag.help in text


def test_the_usage_line_of_a_mistake_names_every_flag() -> None:
    with pytest.raises(UsageError) as info:
        parse("--bogus")
    for f in dataclasses.fields(Options):
        if "flag" in f.metadata:
            assert f.metadata["flag"].names[-1] in str(info.value)


@pytest.mark.parametrize(
    ("line", "models", "approve"),
    [
        ("demo", ("demo",), None),
        ("demo --approve", ("demo",), True),
        ("--approve demo", ("demo",), True),
        ("demo --approve off", ("demo",), False),
        ("demo --approve on", ("demo",), True),
        ("--approve=off demo", ("demo",), False),
    ],
)
def test_approve_takes_on_or_off_and_a_model_after_it_stays_a_model(
    line: str, models: tuple[str, ...], approve: bool | None
) -> None:
    opts = parse(line)
    assert opts is not None and (opts.models, opts.approve) == (models, approve)


def test_tools_take_mcp_servers_and_their_tools_beside_functions() -> None:
    opts = parse("demo --tools mcp:git,summarize_table,mcp:time/get_current_time")
    assert opts is not None and opts.tools == ("mcp:git", "summarize_table", "mcp:time/get_current_time")
    with pytest.raises(UsageError, match="invalid list of function names or MCP servers"):
        parse("demo --tools mcp:a/b/c")
