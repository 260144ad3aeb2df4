"""Whatever is typed on the ``%%llm`` line or in the prompt ends in a normal result or a
one-line ``UsageError``: never another exception, never a hang.

The pure parsers are fuzzed in-process with hypothesis; a few hundred fuzzed lines also
go through a real kernel's ``%%llm demo --dry-run`` path, as a user would type them.
"""

from __future__ import annotations

import random
import time
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from kernel_session import Kernel

from llmring_jupyter.answer import options
from llmring_jupyter.context.interpolate import interpolate
from llmring_jupyter.exceptions import UsageError

WORDS = [
    "demo",
    "openai:gpt-4o-mini",
    "--system",
    "--temperature",
    "--max-tokens",
    "--format",
    "-o",
    "--option",
    "--chat",
    "--new",
    "--no-history",
    "--out",
    "--dry-run",
    "-h",
    "--help",
    "--",
    "-",
    "markdown",
    "text",
    "code",
    "pdf",
    "0",
    "2",
    "2.5",
    "-1",
    "nan",
    "inf",
    "1e9",
    "x=1",
    "=",
    "a=",
    "delay=0",
    'k={"a": [1',
    "'",
    '"',
    "\\",
    "{{x}}",
    "é",
    "🤖",
    "\t",
    "class",
    "_ok",
    "--max-tok",
]
EXAMPLES = {"parse": 1500, "interpolate": 1500}
KERNEL_LINES = 300


def _words() -> st.SearchStrategy[str]:
    return st.lists(st.one_of(st.sampled_from(WORDS), st.text(max_size=8)), max_size=8).map(" ".join)


def _outcome(call: Any) -> None:
    try:
        call()
    except UsageError as exc:
        assert "\n" not in exc.message and exc.message.strip(), repr(exc.message)


@settings(
    max_examples=EXAMPLES["parse"],
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(st.one_of(_words(), st.text()))
def test_any_line_parses_or_is_one_usage_line(line: str) -> None:
    _outcome(lambda: options.parse(line))


NAMESPACE = {"x": "text", "n": 42, "items": [1, 2, 3], "nested": {"k": "v"}, "none": None}


@settings(max_examples=EXAMPLES["interpolate"], deadline=None, derandomize=True, database=None)
@given(
    st.lists(
        st.one_of(
            st.sampled_from(
                [
                    "{{",
                    "}}",
                    "{",
                    "}",
                    "\\",
                    "x",
                    "n",
                    ".",
                    "real",
                    "__class__",
                    "items",
                    "missing",
                    " ",
                    "\n",
                    "_",
                    "1",
                ]
            ),
            st.text(max_size=5),
        ),
        max_size=20,
    ).map("".join),
    st.integers(min_value=0, max_value=50),
)
def test_any_prompt_interpolates_or_is_one_usage_line(prompt: str, limit: int) -> None:
    _outcome(lambda: interpolate(prompt, NAMESPACE, limit))


def _fuzzed_line(rng: random.Random) -> str:
    words = [
        rng.choice(WORDS)
        if rng.random() < 0.7
        else "".join(rng.choice("ab-=_'\"\\{}:.0é🤖 ") for _ in range(rng.randint(1, 6)))
        for _ in range(rng.randint(0, 6))
    ]
    return " ".join(words).replace("\n", " ")


def test_fuzzed_lines_in_a_real_kernel(kernel: Kernel, figures: dict[str, Any]) -> None:
    rng = random.Random(5)
    assert kernel.run("x = 'a value'").ok
    outcomes = {"ok": 0, "usage error": 0}
    started = time.monotonic()
    for _ in range(KERNEL_LINES):
        line = _fuzzed_line(rng)
        prompt = rng.choice(["Hello", "Use {{x}}", "Use {{missing}}", "\\{{x}}", "{ {} }", "é🤖"])
        run = kernel.run(f"%%llm demo --dry-run {line}\n{prompt}", timeout=10)
        if run.ok:
            outcomes["ok"] += 1
            continue
        content = run.reply["content"]
        assert content["ename"] == "UsageError", (line, prompt, run.error)
        assert len(content["traceback"]) == 1 and "\n" not in content["evalue"], (line, run.error)
        outcomes["usage error"] += 1
    assert time.monotonic() - started < 120
    assert run.of("comm_open") == []
    figures["fuzz"] = {
        "parse_examples": EXAMPLES["parse"],
        "interpolate_examples": EXAMPLES["interpolate"],
        "kernel_lines": KERNEL_LINES,
        **{f"kernel_{k}": v for k, v in outcomes.items()},
    }
