"""Conversations that follow the notebook, asserted where messages reach the provider.

A real kernel talks to the OpenAI wire server on 127.0.0.1: what each request
carried is read from the HTTP body the server received.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kernel_session import Execution, Kernel
from providers.dialects import load
from wire_server import WireServer, serving

OPENAI = load("openai")
MODEL = f"openai:{OPENAI.model}"


@pytest.fixture(scope="module")
def wire() -> Iterator[WireServer]:
    yield from serving()


@pytest.fixture(scope="module")
def kernel(wire: WireServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kernel]:
    env = {**OPENAI.key_env, **OPENAI.base_url_env(wire.url), "LLMRING_DEMO_DELAY": "0.001"}
    k = Kernel(cwd=tmp_path_factory.mktemp("chats"), env=env)
    assert k.run(f"%load_ext llmring_jupyter\n%config LLMMagics.default_model = {MODEL!r}").ok
    yield k
    k.close()


@pytest.fixture(autouse=True)
def fresh(kernel: Kernel) -> None:
    for name in ("default", "review"):
        kernel.run(f"%llm reset {name}")
    kernel.run("%config LLMMagics.history_turns = 50\n%config LLMMagics.resend_incomplete = True")


def ask(
    kernel: Kernel, wire: WireServer, prompt: str, answer: str, *, cell: str, line: str = ""
) -> tuple[Execution, list[tuple[str, str]]]:
    """Run ``%%llm {line}`` with ``prompt`` in cell ``cell``; return what the provider received."""
    wire.queue(OPENAI.answer([answer]))
    before = len(wire.seen)
    run = kernel.run(f"%%llm {line}\n{prompt}", cell_id=cell)
    assert run.ok, run.error
    assert len(wire.seen) == before + 1
    return run, OPENAI.sent_messages(wire.seen[-1])


def value(kernel: Kernel, expr: str) -> Any:
    run = kernel.run(f"print(repr(({expr})))")
    assert run.ok, run.error
    return ast.literal_eval(run.stdout)


def test_the_next_cell_continues_the_chat(kernel: Kernel, wire: WireServer) -> None:
    ask(kernel, wire, "First question", "First answer", cell="a")
    _, sent = ask(kernel, wire, "Second question", "Second answer", cell="b")
    assert sent == [("user", "First question"), ("assistant", "First answer"), ("user", "Second question")]


def test_rerunning_a_middle_cell_replaces_exactly_its_turn(kernel: Kernel, wire: WireServer) -> None:
    for cell, n in (("a", 1), ("b", 2), ("c", 3)):
        ask(kernel, wire, f"Q{n}", f"A{n}", cell=cell)
    _, sent = ask(kernel, wire, "Q2 edited", "A2 new", cell="b")
    assert sent == [("user", "Q1"), ("assistant", "A1"), ("user", "Q2 edited")], "later turns are not context"
    _, sent = ask(kernel, wire, "Q3", "A3", cell="c")
    assert sent == [
        ("user", "Q1"),
        ("assistant", "A1"),
        ("user", "Q2 edited"),
        ("assistant", "A2 new"),
        ("user", "Q3"),
    ], "later cells see the updated answer"
    assert value(
        kernel,
        "[t.prompt for t in get_ipython().magics_manager.registry['LLMMagics'].session.conversations.get().turns]",
    ) == ["Q1", "Q2 edited", "Q3"]


def test_without_cell_ids_an_unchanged_cell_still_replaces_its_turn(kernel: Kernel, wire: WireServer) -> None:
    wire.queue(OPENAI.answer(["one"]), OPENAI.answer(["two"]), OPENAI.answer(["three"]))
    for _ in range(2):
        assert kernel.run("%%llm\nSame text").ok  # no cell id: nbclient, older frontends
    assert OPENAI.sent_messages(wire.seen[-1]) == [("user", "Same text")]
    assert kernel.run("%%llm\nOther text").ok
    assert OPENAI.sent_messages(wire.seen[-1]) == [("user", "Same text"), ("assistant", "two"), ("user", "Other text")]


def test_named_chats_stay_separate_and_new_starts_afresh(kernel: Kernel, wire: WireServer) -> None:
    ask(kernel, wire, "Default Q", "Default A", cell="d1")
    ask(kernel, wire, "Review Q", "Review A", cell="r1", line="--chat review")
    _, sent = ask(kernel, wire, "Review Q2", "Review A2", cell="r2", line="--chat review")
    assert sent == [("user", "Review Q"), ("assistant", "Review A"), ("user", "Review Q2")]
    _, sent = ask(kernel, wire, "Fresh", "F", cell="r3", line="--chat review --new")
    assert sent == [("user", "Fresh")]
    _, sent = ask(kernel, wire, "Default Q2", "Default A2", cell="d2")
    assert sent == [("user", "Default Q"), ("assistant", "Default A"), ("user", "Default Q2")]


def test_no_history_sends_the_prompt_alone_and_records_nothing(kernel: Kernel, wire: WireServer) -> None:
    ask(kernel, wire, "Kept", "K", cell="k")
    _, sent = ask(kernel, wire, "Alone", "A", cell="n", line="--no-history")
    assert sent == [("user", "Alone")]
    _, sent = ask(kernel, wire, "Next", "N", cell="x")
    assert sent == [("user", "Kept"), ("assistant", "K"), ("user", "Next")]


def test_system_prompt_and_reset(kernel: Kernel, wire: WireServer) -> None:
    assert "set" in kernel.run("%llm system Don't be verbose").stdout
    ask(kernel, wire, "Q", "A", cell="s1")
    _, sent = ask(kernel, wire, "Q2", "A2", cell="s2")
    assert sent[0] == ("system", "Don't be verbose") and len(sent) == 4
    assert "Forgot" in kernel.run("%llm reset").stdout
    _, sent = ask(kernel, wire, "After reset", "R", cell="s3")
    assert sent == [("user", "After reset")]


def test_history_limit_drops_oldest_and_the_footer_says_so(kernel: Kernel, wire: WireServer) -> None:
    kernel.run("%config LLMMagics.history_turns = 1")
    for cell, n in (("h1", 1), ("h2", 2)):
        ask(kernel, wire, f"Q{n}", f"A{n}", cell=cell)
    run, sent = ask(kernel, wire, "Q3", "A3", cell="h3")
    assert sent == [("user", "Q2"), ("assistant", "A2"), ("user", "Q3")]
    assert "1 earlier turn left out (history limit)" in run.final["data"]["text/plain"]


def test_a_failed_answer_is_recorded_and_resent_only_if_configured(kernel: Kernel, wire: WireServer) -> None:
    reply = OPENAI.answer(["Partial ", "answer ", "then cut"])
    reply.parts = [*reply.parts[:2], __import__("wire_server").CUT]
    wire.queue(reply)
    run = kernel.run("%%llm\nWill fail", cell_id="f1")
    assert not run.ok and "ProviderUnavailableError" in run.error
    assert value(kernel, "_llm.finish_reason, _llm.text") == ("error", "Partial ")
    _, sent = ask(kernel, wire, "Next", "N", cell="f2")
    assert sent == [("user", "Will fail"), ("assistant", "Partial "), ("user", "Next")]
    kernel.run("%config LLMMagics.resend_incomplete = False")
    _, sent = ask(kernel, wire, "Again", "G", cell="f3")
    assert sent == [("user", "Next"), ("assistant", "N"), ("user", "Again")]


def test_result_in_llm_and_out(kernel: Kernel, wire: WireServer) -> None:
    ask(kernel, wire, "Q", "The answer", cell="o1", line="--out answer")
    assert value(kernel, "answer.text, _llm is answer, answer.finish_reason, answer.model") == (
        "The answer",
        True,
        "stop",
        f"openai:{OPENAI.model}",
    )
    assert value(kernel, "[m.role for m in answer.messages], answer.usage.total_tokens > 0") == (["user"], True)
    assert "The answer" in value(kernel, "repr(answer)")


def test_braces_in_code_are_sent_literally(kernel: Kernel, wire: WireServer) -> None:
    prompt = 'Fix this:\nd = {"a": {1, 2}}\nprint(f"{d[\'a\']}")\nand keep \\{{literal}}'
    _, sent = ask(kernel, wire, prompt, "ok", cell="i1", line="--no-history")
    assert sent == [("user", prompt.replace("\\{{", "{{"))]


def test_variables_and_dataframes_are_interpolated(kernel: Kernel, wire: WireServer) -> None:
    kernel.run(
        "import pandas as pd\ndf = pd.DataFrame({'city': ['Paris', 'Oslo'] * 50, 'temp': range(100)})\n"
        "name = 'Ada'\nlong = 'x' * 10000"
    )
    _, sent = ask(
        kernel, wire, "Hi {{name}}, see {{df}} and {{ df.shape }} and {{long}}", "ok", cell="i2", line="--no-history"
    )
    ((_role, text),) = sent
    assert text.startswith("Hi Ada, see DataFrame with 100 rows × 2 columns\ncolumns: city: ")
    assert ", temp: int64\nfirst rows" in text
    assert "first rows (CSV):\n,city,temp\n0,Paris,0" in text and "… (95 more rows)" in text
    assert "(100, 2)" in text
    assert "… [truncated: 6,000 more characters]" in text and len(text) < 5000


def test_max_value_chars_cuts_every_kind_of_value(kernel: Kernel, wire: WireServer) -> None:
    assert kernel.run("%config LLMMagics.max_value_chars = 50\nnums = list(range(500))\nword = 'y' * 80").ok
    try:
        _, sent = ask(kernel, wire, "{{nums}}|{{word}}", "ok", cell="v1", line="--no-history")
    finally:
        assert kernel.run("%config LLMMagics.max_value_chars = 4000").ok
    ((_role, text),) = sent
    nums = repr(list(range(500)))
    assert text == (
        f"{nums[:50]}\n… [truncated: {len(nums) - 50:,} more characters]|{'y' * 50}\n… [truncated: 30 more characters]"
    )


def test_a_missing_variable_is_one_line_and_sends_nothing(kernel: Kernel, wire: WireServer) -> None:
    before = len(wire.seen)
    run = kernel.run("%%llm\nExplain {{nowhere}}", cell_id="m1")
    assert not run.ok and "names no variable 'nowhere'" in run.error
    assert len(run.reply["content"]["traceback"]) == 1 and len(wire.seen) == before


def test_a_quoted_key_with_a_bracket_is_looked_up_and_a_missing_one_is_one_line(
    kernel: Kernel, wire: WireServer
) -> None:
    assert kernel.run("d = {'a]b': 'bracketed', 'c': 3}").ok
    _, sent = ask(kernel, wire, "Say {{d['a]b']}} and {{ d[\"c\"] }}", "ok", cell="q1", line="--no-history")
    assert sent == [("user", "Say bracketed and 3")]
    before = len(wire.seen)
    run = kernel.run("%%llm --no-history\nSay {{d['x]y']}}", cell_id="q2")
    assert not run.ok and len(run.reply["content"]["traceback"]) == 1 and len(wire.seen) == before
    assert run.reply["content"]["ename"] == "UsageError"
    assert run.reply["content"]["evalue"].startswith("{{d['x]y']}}: d has no item 'x]y' (its keys: 'a]b', 'c')")


@pytest.mark.parametrize(
    ("keyword", "says"),
    [
        ("history='false'", "history= must be True or False, not 'false'"),
        ("new=1", "new= must be True or False, not 1"),
        ("temperature='0.5'", "(temperature=) must be a number from 0 to 2, not '0.5'"),
        ("max_tokens=2.5", "(max_tokens=) must be a whole number of at least 1, not 2.5"),
        ("system=['be brief']", "system= must be text, not ['be brief']"),
        ("conversation=None", "conversation= must be a name (text), not None"),
        ("cache='yes'", "cache= must be True, False or None, not 'yes'"),
        ("attach=3", "attach= must be a path or a list of paths, not 3"),
        ("provider_options=['seed=7']", "provider_options= must be (name, value) pairs"),
    ],
)
def test_chat_checks_its_keywords_in_one_line_and_sends_nothing(
    kernel: Kernel, wire: WireServer, keyword: str, says: str
) -> None:
    before = len(wire.seen)
    run = kernel.run(f"import llmring_jupyter\nawait llmring_jupyter.chat('hi', {keyword})", cell_id="k1")
    assert not run.ok and len(run.reply["content"]["traceback"]) == 1 and len(wire.seen) == before
    assert run.reply["content"]["ename"] == "UsageError"
    assert says in run.reply["content"]["evalue"], run.reply["content"]["evalue"]


def test_dry_run_shows_the_messages_and_sends_nothing(kernel: Kernel, wire: WireServer) -> None:
    ask(kernel, wire, "Earlier", "E", cell="y1")
    before = len(wire.seen)
    run = kernel.run("%%llm --system 'Be kind' --dry-run\nWhat now?", cell_id="y2")
    assert run.ok and len(wire.seen) == before
    shown = run.of("display_data")[0]["content"]["data"]["text/plain"]
    assert shown.startswith(f"Dry run: 4 messages to {MODEL}, about ")
    assert "[system]\nBe kind\n\n[user]\nEarlier\n\n[assistant]\nE\n\n[user]\nWhat now?" in shown
    assert (
        value(kernel, "len(get_ipython().magics_manager.registry['LLMMagics'].session.conversations.get().turns)") == 1
    )


def test_export_then_load_round_trips(kernel: Kernel, wire: WireServer, tmp_path: Path) -> None:
    ask(kernel, wire, "Remember 42", "Noted: 42", cell="e1", line="--chat review")
    path, md = tmp_path / "review.json", tmp_path / "review.md"
    assert kernel.run(f"%llm export review {path}\n%llm export review {md}").ok
    assert "## 1. You\n\nRemember 42" in md.read_text()
    assert json.loads(path.read_text())["turns"][0]["answer"] == "Noted: 42"
    kernel.run("%llm reset review")
    assert "Loaded the conversation 'review': 1 turns" in kernel.run(f"%llm load {path}").stdout
    _, sent = ask(kernel, wire, "What number?", "42", cell="e2", line="--chat review")
    assert sent == [("user", "Remember 42"), ("assistant", "Noted: 42"), ("user", "What number?")]
    assert "review" in kernel.run("%llm chats").stdout
    history = kernel.run("%llm history review").of("display_data")[0]["content"]["data"]["text/plain"]
    assert history.startswith("Conversation 'review': 2 turns") and "What number?" in history


def test_python_api_in_a_loop_continues_the_same_chat(kernel: Kernel, wire: WireServer) -> None:
    ask(kernel, wire, "From a cell", "cell answer", cell="p1")
    for n in range(3):
        wire.queue(OPENAI.answer([f"loop {n}"]))
    run = kernel.run(
        "import llmring_jupyter\nout = []\nfor n in range(3):\n"
        "    r = await llmring_jupyter.chat(f'item {n}')\n    out.append(r.text)\nprint(out)",
        cell_id="p2",
    )
    assert run.ok, run.error
    assert run.stdout.strip() == "['loop 0', 'loop 1', 'loop 2']"
    assert OPENAI.sent_messages(wire.seen[-1]) == [
        ("user", "From a cell"),
        ("assistant", "cell answer"),
        ("user", "item 0"),
        ("assistant", "loop 0"),
        ("user", "item 1"),
        ("assistant", "loop 1"),
        ("user", "item 2"),
    ]
    finals = [m for m in run.of("update_display_data") if "llmring-footer" in m["content"]["data"].get("text/html", "")]
    assert len(finals) == 3, "each answer streams into its own view"
