"""The static output of a side-by-side cell, and when such a cell fails."""

from __future__ import annotations

import pytest
from shell import loaded_shell

from llmring_jupyter import render
from llmring_jupyter.exceptions import UsageError
from llmring_jupyter.providers.errors import LLMError, MissingKeyError, RateLimitError
from llmring_jupyter.providers.types import Usage
from llmring_jupyter.result import Result, Timings
from llmring_jupyter.view.columns import grid_bundle, raise_if_all_failed


def _result(model: str, text: str, *, error: LLMError | None = None) -> Result:
    return Result(
        text=text,
        requested=model,
        model=None if error else model,
        finish_reason="error" if error else "stop",
        usage=None if error else Usage.of(12, 3),
        timings=Timings(1.0, None if error else 0.2, 0.9),
        messages=(),
        error=error.message if error else None,
        exception=error,
    )


ANSWERS = [
    _result("openai:gpt-4o-mini", "Bias is **error** from assumptions."),
    _result("anthropic:claude-haiku-4", "", error=MissingKeyError("anthropic", ("ANTHROPIC_API_KEY",))),
    _result("ollama:llama3.2", "Variance <script>alert(1)</script> is sensitivity."),
]


def test_columns_are_each_answers_own_static_rendering_with_footer_and_error() -> None:
    data, metadata = grid_bundle(ANSWERS, "markdown", kept=0)
    html = data["text/html"]
    assert "display:grid" in html and "repeat(auto-fit, minmax(18rem, 1fr))" in html
    columns = html.split('class="llmring-column"')[1:]
    assert len(columns) == 3
    for column, result in zip(columns, ANSWERS, strict=True):
        assert render.bundle(result)[0]["text/html"] in column, "built from the per-answer rendering"
    assert "✓ kept in the conversation" in columns[0] and "✓ kept" not in columns[1] + columns[2]
    assert "✗ No API key for anthropic: set ANTHROPIC_API_KEY in the environment" in columns[1]
    assert "<script>" not in html and "&lt;script&gt;" in html, "model text stays escaped"
    assert metadata["llmring"]["kept"] == 0
    assert [a["requested"] for a in metadata["llmring"]["answers"]] == [r.requested for r in ANSWERS]


def test_the_plain_text_copy_names_each_column_and_the_kept_one() -> None:
    plain = grid_bundle(ANSWERS, "markdown", kept=2)[0]["text/plain"]
    blocks = plain.split("\n\n[")
    assert blocks[0].startswith("[1] openai:gpt-4o-mini\nBias is **error** from assumptions.\n\n— openai:gpt-4o-mini")
    assert blocks[1].startswith("2] anthropic:claude-haiku-4\n")
    assert blocks[1].endswith(
        "\n✗ No API key for anthropic: set ANTHROPIC_API_KEY in the environment. "
        "Or run `%llm key anthropic` to enter it for this session only."
    ), "the failing column's one line, with the notebook's next step"
    assert blocks[2].startswith("3] ollama:llama3.2 (kept)\n")


def test_a_side_by_side_cell_fails_only_when_every_answer_failed() -> None:
    raise_if_all_failed(ANSWERS)  # one failed of three: the cell succeeds
    failed = [ANSWERS[1], _result("openai:gpt-4o-mini", "", error=RateLimitError("Rate limited; retry after 7 s."))]
    with pytest.raises(
        LLMError,
        match=r"^All 2 answers failed \(anthropic:claude-haiku-4: No API key .*openai:gpt-4o-mini: Rate limited",
    ):
        raise_if_all_failed(failed)


def test_keep_says_what_it_needs() -> None:
    for shell in loaded_shell():
        with pytest.raises(UsageError, match="No side-by-side answers yet"):
            shell.run_line_magic("llm", "keep 1")
        with pytest.raises(UsageError, match="Usage: %llm keep N"):
            shell.run_line_magic("llm", "keep first")
