"""Replay, spend and the llm log in real kernels against OpenAI's wire format.

An answer asked in one kernel is replayed by a fresh kernel in the same folder
with nothing on the wire; any change to the request asks again; ``%llm usage``
totals; a token budget refuses before sending and stops a stream that runs
past it; the log is read back by the ``llm`` CLI.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from kernel_providers import SENTINELS, footer, one_line_error, set_env, value
from kernel_session import Execution, Kernel
from providers.dialects import load
from wire_server import Part, Reply, WireServer

OPENAI = load("openai")
PARTS = ["A monad ", "is a ", "monoid ", "in the category ", "of endofunctors."]
TEXT = "".join(PARTS)
CELL = "%%llm openai:gpt-4o-mini --no-history\nWhat is a monad?"


def _kernel(folder: Path, wire: WireServer, *config: str) -> Kernel:
    k = Kernel(cwd=folder, env={"LLMRING_DEMO_DELAY": "0.002"})
    assert k.run("%load_ext llmring_jupyter").ok
    set_env(k, {"OPENAI_API_KEY": SENTINELS["OPENAI_API_KEY"], **OPENAI.base_url_env(wire.url)})
    for line in config:
        assert k.run(f"%config LLMMagics.{line}").ok, line
    return k


@pytest.fixture
def kernels() -> Iterator[list[Kernel]]:
    started: list[Kernel] = []
    yield started
    for k in started:
        k.close()


def _asked(wire: WireServer, run: Execution, before: int) -> bool:
    """Whether the cell sent a request (and succeeded)."""
    assert run.ok, run.error
    return len(wire.seen) == before + 1


def test_a_fresh_kernel_replays_with_nothing_on_the_wire_and_changes_ask_again(
    tmp_path: Path, kernels: list[Kernel], wire: WireServer
) -> None:
    first = _kernel(tmp_path, wire, "cache = 'replay'")
    kernels.append(first)
    wire.queue(OPENAI.answer(PARTS, usage=(13, 8)))
    asked = first.run(CELL, cell_id="cell-1")
    assert asked.ok, asked.error
    assert len(wire.seen) == 1 and "replayed" not in footer(asked)
    first.close()
    kernels.remove(first)

    fresh = _kernel(tmp_path, wire, "cache = 'replay'")
    kernels.append(fresh)
    set_env(fresh, OPENAI.base_url_env(wire.url))  # no key: CI re-running a committed cache needs none
    run = fresh.run(CELL, cell_id="cell-1")
    assert run.ok, run.error
    assert len(wire.seen) == 1, "a replayed answer sends nothing"
    assert run.final["data"]["text/plain"].startswith(TEXT + "\n\n— ")
    assert re.fullmatch(
        r"openai:gpt-4o-mini · stop · 13 in · 8 out · 21 tokens · .* · \$0\.0000 · "
        r"replayed · first answered \d{4}-\d\d-\d\d \d\d:\d\d by openai:gpt-4o-mini",
        footer(run),
    ), footer(run)
    assert value(fresh, "_llm.text, _llm.cost, _llm.replayed.model") == (TEXT, 0.0, "openai:gpt-4o-mini")
    record = run.final["metadata"]["llmring"]
    assert record["replayed"]["model"] == "openai:gpt-4o-mini" and record["cost_usd"] == 0.0, "saved: it says so"
    stored = (tmp_path / ".llmring" / "cache.sqlite").read_bytes()
    assert SENTINELS["OPENAI_API_KEY"].encode() not in stored and PARTS[-1].encode() in stored

    set_env(fresh, {"OPENAI_API_KEY": SENTINELS["OPENAI_API_KEY"], **OPENAI.base_url_env(wire.url)})
    variants = [  # each differs from CELL in one thing
        ("%%llm openai:gpt-4o-mini --no-history\nWhat is a functor?", "a changed prompt"),
        ("%%llm openai:gpt-4o --no-history\nWhat is a monad?", "another model"),
        ("%%llm openai:gpt-4o-mini --no-history --temperature 0.5\nWhat is a monad?", "a parameter"),
        ("%%llm openai:gpt-4o-mini --no-history --system 'Be brief.'\nWhat is a monad?", "a system prompt"),
        (CELL.replace("\n", " --no-cache\n"), "--no-cache"),
    ]
    for code, why in variants:
        wire.queue(OPENAI.answer(PARTS, served="gpt-4o" if "gpt-4o " in code else ""))
        before = len(wire.seen)
        assert _asked(wire, fresh.run(code, cell_id="variant"), before), why

    # With history: the first turn's request is CELL's, so it replays, and joins the conversation;
    # the same prompt after it is another request (it carries that turn), so it asks.
    with_history = "%%llm openai:gpt-4o-mini\nWhat is a monad?"
    assert "replayed" in footer(fresh.run(with_history, cell_id="h1"))
    wire.queue(OPENAI.answer(PARTS))
    assert _asked(wire, fresh.run(with_history, cell_id="h2"), 6), "the history changed"
    assert "replayed" in footer(fresh.run(with_history, cell_id="h2")), "re-run: its request is unchanged"
    assert len(wire.seen) == 7

    usage = fresh.run("%llm usage")
    assert usage.ok, usage.error
    (shown,) = [m["content"]["data"] for m in usage.of("display_data")]
    rows = [re.split(r"\s{2,}", line.strip()) for line in shown["text/plain"].splitlines()]
    assert rows[1][:5] == ["openai:gpt-4o-mini", "8", "3", "55", "35"], rows  # 5 sent (11 + 7 tokens each), 3 replayed
    assert rows[2][:5] == ["openai:gpt-4o", "1", "0", "11", "7"], rows
    assert "<table" in shown["text/html"]


def test_refresh_asks_again_and_the_cell_option_replays(
    tmp_path: Path, kernels: list[Kernel], wire: WireServer
) -> None:
    k = _kernel(tmp_path, wire, "cache = 'refresh'")
    kernels.append(k)
    for _ in range(2):
        wire.queue(OPENAI.answer(PARTS))
        before = len(wire.seen)
        assert _asked(wire, k.run(CELL, cell_id="only"), before), "refresh always asks"
    assert k.run("%config LLMMagics.cache = 'off'").ok
    run = k.run(CELL.replace("\n", " --cache\n"), cell_id="only")
    assert run.ok and len(wire.seen) == 2 and "replayed" in footer(run)


def test_a_token_budget_refuses_before_sending(tmp_path: Path, kernels: list[Kernel], wire: WireServer) -> None:
    k = _kernel(tmp_path, wire, "budget_tokens = 30")
    kernels.append(k)
    wire.queue(OPENAI.answer(PARTS, usage=(13, 8)))
    assert k.run(CELL).ok
    run = k.run("%%llm openai:gpt-4o-mini --no-history\nAnd what is a functor, in a few words?")
    assert one_line_error(run) == (
        "BudgetError: Token budget reached: 21 of 30 tokens spent, and this answer needs about 14; nothing was "
        "sent. Raise it with %config LLMMagics.budget_tokens = … (0: no budget)."
    )
    assert len(wire.seen) == 1, "nothing may be sent"
    assert k.run("%config LLMMagics.budget_tokens = 0").ok
    wire.queue(OPENAI.answer(PARTS))
    assert _asked(wire, k.run("%%llm openai:gpt-4o-mini\nAnd what is a functor?"), 1), "0: no budget"


def test_a_dollar_budget_refuses_once_the_price_table_says_it_is_spent(
    tmp_path: Path, kernels: list[Kernel], wire: WireServer
) -> None:
    k = _kernel(tmp_path, wire, "budget_usd = 0.005")
    kernels.append(k)
    wire.queue(OPENAI.answer(PARTS, usage=(20_000, 4_000)))  # $0.0054 at gpt-4o-mini's price
    assert k.run(CELL).ok
    run = k.run(CELL.replace("monad", "functor"))
    assert re.fullmatch(
        r"BudgetError: Budget reached: \$0\.0054 of \$0\.0050 spent, and this answer needs about \$0\.0000; nothing "
        r"was sent\. Raise it with %config LLMMagics\.budget_usd = … \(0: no budget\)\.",
        one_line_error(run),
    ), one_line_error(run)
    assert len(wire.seen) == 1


def test_a_stream_past_the_budget_stops_like_stop_keeping_its_text(
    tmp_path: Path, kernels: list[Kernel], wire: WireServer
) -> None:
    k = _kernel(tmp_path, wire, "budget_tokens = 40")
    kernels.append(k)
    words = [f"word{i:03} " for i in range(200)]  # ~2 tokens each by the estimate: past 40 well before the end
    reply = OPENAI.answer(words)
    paced: list[Part] = []
    for part in reply.parts:
        paced += [part, 0.01]
    wire.queue(Reply(reply.status, reply.headers, paced))
    run = k.run(CELL.replace(" --no-history", ""))
    assert run.ok, "a budget stop ends the cell like the Stop button: no error"
    text, finish, error = value(k, "_llm.text, _llm.finish_reason, _llm.error")
    assert finish == "cancelled" and text and "".join(words).startswith(text) and len(text) < len("".join(words))
    assert error.startswith("Token budget reached: 0 of 40 tokens spent, and this answer has used about ")
    assert "■ stopped · Token budget reached" in footer(run)
    assert wire.last().client_closed_early, "the request is closed: the provider stops billing"
    turns = "get_ipython().magics_manager.registry['LLMMagics'].session.conversations.get().turns"
    assert value(k, f"[t.answer for t in {turns}] == [_llm.text]"), "the stopped answer is kept in the conversation"


def test_the_log_is_read_by_the_llm_cli(tmp_path: Path, kernels: list[Kernel], wire: WireServer) -> None:
    k = _kernel(tmp_path, wire, "log_path = 'logs.db'")
    kernels.append(k)
    assert k.run("%llm system You answer in one line.").ok
    for prompt in ("What is a monad?", "And a functor?"):
        wire.queue(OPENAI.answer(PARTS, usage=(13, 8)))
        assert k.run(f"%%llm openai:gpt-4o-mini -o seed=7\n{prompt}").ok
    assert k.run("%%llm demo\nOffline too").ok
    cli = shutil.which("llm", path=str(Path(sys.executable).parent)) or "llm"
    out = subprocess.run(
        [cli, "logs", "list", "-d", str(tmp_path / "logs.db"), "--json", "-n", "0"],
        capture_output=True,
        text=True,
        check=True,
    )
    rows = json.loads(out.stdout)
    assert [(r["prompt"], r["response"][:8], r["resolved_model"]) for r in rows] == [
        ("What is a monad?", TEXT[:8], "openai:gpt-4o-mini"),
        ("And a functor?", TEXT[:8], "openai:gpt-4o-mini"),
        ("Offline too", "## Demo ", "demo:chat"),
    ]
    assert {r["system"] for r in rows} == {"You answer in one line."}
    assert len({r["conversation_id"] for r in rows}) == 1, "the notebook's default conversation is one thread"
    assert rows[0]["options_json"] == {"seed": 7} and (rows[1]["input_tokens"], rows[1]["output_tokens"]) == (13, 8)
    assert SENTINELS["OPENAI_API_KEY"].encode() not in (tmp_path / "logs.db").read_bytes()


PAPER = "from pydantic import BaseModel\nclass Paper(BaseModel):\n    title: str\n    year: int\n    topics: list[str]"


def test_a_schema_answer_replays_and_is_validated_again(
    tmp_path: Path, kernels: list[Kernel], wire: WireServer
) -> None:
    cell = "%%llm demo --no-history --schema Paper\nOne paper about graphs"
    first = _kernel(tmp_path, wire, "cache = 'replay'")
    kernels.append(first)
    assert first.run(PAPER).ok
    asked = first.run(cell)
    assert asked.ok, asked.error
    data = value(first, "_llm.data.model_dump()")
    fresh = _kernel(tmp_path, wire, "cache = 'replay'")
    kernels.append(fresh)
    assert fresh.run(PAPER).ok
    run = fresh.run(cell)
    assert run.ok, run.error
    assert "replayed" in footer(run)
    assert value(fresh, "type(_llm.data).__name__, _llm.data.model_dump()") == ("Paper", data)
    other = fresh.run(cell.replace("Paper", "list[Paper]"))
    assert other.ok and "replayed" not in footer(other), "another schema is another request"


SUMMARY = "from pydantic import BaseModel\nclass Summary(BaseModel):\n    title: str\n    key_points: {}"


def test_a_schema_redefined_with_a_changed_field_asks_again(
    tmp_path: Path, kernels: list[Kernel], wire: WireServer
) -> None:
    cell = "%%llm demo --no-history --schema Summary\nSummarise graphs"
    k = _kernel(tmp_path, wire, "cache = 'replay'")
    kernels.append(k)
    assert k.run(SUMMARY.format("list[str]")).ok
    assert k.run(cell).ok
    assert k.run(SUMMARY.format("int")).ok  # the same type name, its key_points now a number
    run = k.run(cell)
    assert run.ok, run.error
    assert "replayed" not in footer(run), "another schema is another request"
    assert value(k, "type(_llm.data.key_points).__name__") == "int"


OLLAMA = load("ollama")
LOOKUP = "def lookup(what: str) -> str:\n    return f'result of {what}'"


def test_a_replayed_two_step_exchange_gives_each_call_its_own_result_when_calls_carry_no_id(
    tmp_path: Path, kernels: list[Kernel], wire: WireServer
) -> None:
    cell = "%%llm ollama:llama3.2:3b --tools lookup --no-history\nLook up A, then B."
    first = _kernel(tmp_path, wire, "cache = 'replay'")
    kernels.append(first)
    set_env(first, OLLAMA.base_url_env(wire.url))
    assert first.run(LOOKUP).ok
    wire.queue(  # Ollama's calls carry no id: one call a step
        OLLAMA.tool_calls([("", "lookup", ['{"what": "A"}'])]),
        OLLAMA.tool_calls([("", "lookup", ['{"what": "B"}'])]),
        OLLAMA.answer(["Both looked up."]),
    )
    asked = first.run(cell, cell_id="tools")
    assert asked.ok, asked.error
    results = "[(r.step, r.result) for r in _llm.tool_calls]"
    assert value(first, results) == [(1, "result of A"), (2, "result of B")]
    first.close()
    kernels.remove(first)

    fresh = _kernel(tmp_path, wire, "cache = 'replay'")
    kernels.append(fresh)
    set_env(fresh, OLLAMA.base_url_env(wire.url))
    assert fresh.run("def lookup(what: str) -> str:\n    raise AssertionError('a replay runs no tool')").ok
    run = fresh.run(cell, cell_id="tools")
    assert run.ok, run.error
    assert len(wire.seen) == 3 and "replayed" in footer(run)
    assert value(fresh, results) == [(1, "result of A"), (2, "result of B")]
    assert value(fresh, "[m.content for m in _llm.exchange if m.role == 'tool']") == ["result of A", "result of B"]


def test_two_different_images_do_not_replay_each_others_answer(
    tmp_path: Path, kernels: list[Kernel], wire: WireServer
) -> None:
    k = _kernel(tmp_path, wire, "cache = 'replay'")
    kernels.append(k)
    made = k.run(  # two PNGs of the same size and name, differing in one pixel's colour
        "import base64, zlib, struct\n"
        "def png(rgb):\n"
        "    def chunk(kind, data):\n"
        "        return struct.pack('>I', len(data)) + kind + data + struct.pack('>I', zlib.crc32(kind + data))\n"
        "    head = struct.pack('>IIBBBBB', 1, 1, 8, 2, 0, 0, 0)\n"
        "    return b'\\x89PNG\\r\\n\\x1a\\n' + chunk(b'IHDR', head) + chunk(b'IDAT', zlib.compress(b'\\0' + rgb))"
        " + chunk(b'IEND', b'')\n"
        "import pathlib\n"
        "pathlib.Path('red').mkdir(exist_ok=True); pathlib.Path('blue').mkdir(exist_ok=True)\n"
        "pathlib.Path('red/pixel.png').write_bytes(png(b'\\xff\\0\\0'))\n"
        "pathlib.Path('blue/pixel.png').write_bytes(png(b'\\0\\0\\xff'))"
    )
    assert made.ok, made.error
    for colour in ("red", "blue"):
        wire.queue(OPENAI.answer([f"A {colour} pixel."]))
        run = k.run(f"%%llm openai:gpt-4o-mini --no-history --attach {colour}/pixel.png\nWhat colour?", cell_id=colour)
        assert run.ok, run.error
        assert value(k, "_llm.text") == f"A {colour} pixel.", "the other image's answer was replayed"
    assert len(wire.seen) == 2
    again = k.run("%%llm openai:gpt-4o-mini --no-history --attach red/pixel.png\nWhat colour?", cell_id="red")
    assert again.ok and "replayed" in footer(again) and value(k, "_llm.text") == "A red pixel."
