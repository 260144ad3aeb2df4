"""``%%llm`` against each provider's real wire format, in a real kernel: what a user sees
when an answer arrives, is rate limited, is cut off, or has no key; and that nothing but
the provider request leaves the kernel.

The wire server runs in the test process; the kernel reaches it at 127.0.0.1 through
each provider's base-URL variable, with sentinel keys.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kernel_providers import footer, one_line_error, reads_well, set_env, value
from kernel_session import Execution, Kernel, Msg
from providers.dialects import NAMES, Dialect, load
from providers.dialects.openai_chat import ChatCompletionsDialect
from wire_server import CUT, HANG, WireServer

from llmring_jupyter.providers import Usage
from llmring_jupyter.providers.pricing import price

PARTS = ["Hello", ", wor", "ld! ", "Ünïcode ✓", "\n\nThe end."]
TEXT = "".join(PARTS)


@pytest.fixture(params=NAMES)
def dialect(request: pytest.FixtureRequest, kernel: Kernel, wire: WireServer) -> Iterator[Dialect]:
    """Each provider in turn, its key set and its base URL at this test's wire server."""
    d = load(request.param)
    set_env(kernel, {**d.key_env, **d.base_url_env(wire.url)})
    yield d


def _ask(kernel: Kernel, d: Dialect) -> Execution:
    return kernel.run(f"%%llm {d.provider}:{d.model}\nSay hello")


def _shown(run: Execution) -> list[dict[str, str]]:
    """What each display of the cell finally shows (its last data), in order."""
    last: dict[str, dict[str, str]] = {}
    for m in run.of("display_data") + run.of("update_display_data"):
        last[m["content"]["transient"]["display_id"]] = m["content"]["data"]
    return list(last.values())


def test_answer_footer_names_the_served_model_finish_and_tokens(
    kernel: Kernel, dialect: Dialect, wire: WireServer
) -> None:
    served = f"{dialect.model}-0325"
    wire.queue(dialect.answer(PARTS, served=served, usage=(13, 8)))
    run = _ask(kernel, dialect)
    assert run.ok, run.error
    assert run.final["data"]["text/plain"].startswith(TEXT + "\n\n— ")
    assert footer(run).startswith(f"{dialect.provider}:{served} · stop · 13 in · 8 out · 21 tokens")
    record = run.final["metadata"]["llmring"]
    assert record["model"] == f"{dialect.provider}:{served}" and record["finish_reason"] == "stop"
    assert record["usage"]["total_tokens"] == 21
    assert value(kernel, "_llm.text") == TEXT


def test_rate_limit_is_one_line_saying_when_to_retry(kernel: Kernel, dialect: Dialect, wire: WireServer) -> None:
    # This kernel has answered from the provider before, whichever tests ran first: its SDK's
    # first request (imports, its HTTP client) can outlast the live view's timer, which would
    # rightly show a view; what is checked here is that an error returned at once shows none.
    wire.queue(dialect.answer(PARTS))
    assert _ask(kernel, dialect).ok
    # longer than the longest wait a retry sits through: said, not waited for
    wire.queue(dialect.http_error(429, "Rate limit reached for requests", retry_after=30))
    run = _ask(kernel, dialect)
    error = one_line_error(run)
    assert error.startswith("RateLimitError: ") and "retry after 30 s" in error
    reads_well(error)
    assert len(wire.seen) == 2, "the rate limit was not retried"
    assert _shown(run) == [], "no text arrived: no output above the error, not even an empty one"
    assert run.stdout == ""
    for key in dialect.key_env.values():
        assert key not in error


def test_cut_mid_stream_keeps_the_partial_answer_and_the_next_cell_works(
    kernel: Kernel, dialect: Dialect, wire: WireServer
) -> None:
    reply = dialect.answer(PARTS)
    reply.parts = [*reply.parts[:3], CUT]
    wire.queue(reply)
    run = _ask(kernel, dialect)
    error = one_line_error(run)
    assert error.startswith("ProviderUnavailableError: ") and "mid-answer" in error
    partial = value(kernel, "_llm.text")
    assert partial and TEXT.startswith(partial)
    assert value(kernel, "_llm.finish_reason") == "error"
    plain = run.final["data"]["text/plain"]
    assert plain.startswith(partial + "\n\n— ") and "✗ failed" in footer(run)
    assert run.final["metadata"]["llmring"]["finish_reason"] == "error"

    wire.queue(dialect.answer(PARTS))
    again = _ask(kernel, dialect)
    assert again.ok, again.error
    assert value(kernel, "_llm.text") == TEXT


@pytest.mark.parametrize("name", [n for n in NAMES if load(n).key_env])
def test_missing_key_names_the_variable_and_the_command(kernel: Kernel, wire: WireServer, name: str) -> None:
    d = load(name)
    set_env(kernel, d.base_url_env(wire.url))  # the URL, but no key
    error = one_line_error(_ask(kernel, d))
    assert error.startswith("MissingKeyError: ")
    reads_well(error)
    assert all(var in error for var in d.key_env) and f"%llm key {d.provider}" in error
    assert wire.seen == [], "nothing may be sent without a key"


def test_usage_the_provider_did_not_send_is_estimated_and_marked(kernel: Kernel, wire: WireServer) -> None:
    d = load("openai_chat")  # an OpenAI-compatible server that ignores stream_options: no usage chunk
    assert isinstance(d, ChatCompletionsDialect)
    wire.routes.update(d.routes)  # and has no Responses API
    set_env(kernel, {**d.key_env, **d.base_url_env(wire.url)})
    reply = d.answer(PARTS)
    reply.parts = [p for p in reply.parts if '"usage": {' not in str(p)]
    wire.queue(reply)
    run = _ask(kernel, d)
    assert run.ok, run.error
    estimated, completion = value(kernel, "_llm.usage.estimated, _llm.usage.completion_tokens")
    assert estimated is True and completion == (len(TEXT) + 3) // 4
    assert f"~{completion} out" in footer(run) and "tok/s" not in footer(run)
    assert run.final["metadata"]["llmring"]["usage"]["estimated"] is True


def test_openai_answer_shows_its_cost(kernel: Kernel, wire: WireServer) -> None:
    d = load("openai")
    set_env(kernel, {**d.key_env, **d.base_url_env(wire.url)})
    wire.queue(d.answer(PARTS, usage=(1200, 340)))
    run = _ask(kernel, d)
    assert run.ok, run.error
    cost = price(f"openai:{d.model}", Usage.of(1200, 340))
    assert cost is not None and cost > 0
    assert f"${cost:.4f}" in footer(run)
    assert run.final["metadata"]["llmring"]["cost_usd"] == pytest.approx(cost, abs=1e-6)


def test_fallback_footer_names_the_model_that_served(kernel: Kernel, wire: WireServer, tmp_path: Path) -> None:
    first, second = load("openai"), load("anthropic")
    lock = tmp_path / "llmring.lock"
    lock.write_text(
        f'[[profiles.default.bindings]]\nalias = "chatbot"\n'
        f'models = ["openai:{first.model}", "anthropic:{second.model}"]\n'
    )
    set_env(
        kernel,
        {
            **first.key_env,
            **first.base_url_env(wire.url),
            **second.key_env,
            **second.base_url_env(wire.url),
            "LLMRING_LOCKFILE_PATH": str(lock),
        },
    )
    wire.queue(first.http_error(404, "no such model"), second.answer(PARTS))  # not retried: the next model
    run = kernel.run("%%llm chatbot\nSay hello")
    assert run.ok, run.error
    assert footer(run).startswith(f"anthropic:{second.model} · stop")
    assert run.final["metadata"]["llmring"]["requested"] == "chatbot"


def test_nothing_but_the_provider_request_leaves_the_kernel(kernel: Kernel, dialect: Dialect, wire: WireServer) -> None:
    # An audit hook sees every socket connect and name lookup Python makes in the kernel
    # (ZMQ's own sockets are not Python's), from here until the answer is in.
    installed = kernel.run(
        "import sys\n"
        "_net = []\n"
        "if not globals().get('_net_hooked'):\n"
        "    sys.addaudithook(lambda e, a: _net.append((e, str(a[1] if e == 'socket.connect' else a[0])))"
        " if e in ('socket.connect', 'socket.getaddrinfo') else None)\n"
        "    _net_hooked = True\n"
    )
    assert installed.ok, installed.error
    kernel.run("_net.clear()")
    wire.queue(dialect.answer(PARTS))
    run = _ask(kernel, dialect)
    assert run.ok, run.error
    assert len(wire.seen) == 1, "exactly one request: no registry, no telemetry, no retry"
    events = value(kernel, "_net")
    hosts = {target for event, target in events}
    assert hosts <= {"127.0.0.1", f"('127.0.0.1', {wire.port})"}, events
    assert ("socket.connect", f"('127.0.0.1', {wire.port})") in events


def test_a_stopped_answer_names_the_model_asked_and_says_stopped_once(
    kernel: Kernel, wire: WireServer, tmp_path: Path
) -> None:
    d = load("openai")
    lock = tmp_path / "llmring.lock"
    lock.write_text(f'[[profiles.default.bindings]]\nalias = "chatbot"\nmodels = ["openai:{d.model}"]\n')
    set_env(kernel, {**d.key_env, **d.base_url_env(wire.url), "LLMRING_LOCKFILE_PATH": str(lock)})
    reply = d.answer(PARTS)
    reply.parts = [*reply.parts[:2], HANG]  # the served model's name would come with the end
    wire.queue(reply)
    before = len(wire.seen)
    state: dict[str, Any] = {}

    def during(msg: Msg, k: Kernel) -> None:
        if msg["msg_type"] == "comm_open" and msg["content"]["data"].get("state", {}).get("_model_name") == "AnyModel":
            state["comm"] = msg["content"]["comm_id"]

    def tick(k: Kernel) -> None:
        settled = len(wire.seen) > before and time.monotonic() - wire.seen[-1].received > 0.4
        if "comm" in state and "stopped" not in state and settled:
            state["stopped"] = True
            k.send_custom(state["comm"], {"kind": "stop"})

    run = kernel.run("%%llm chatbot\nSay hello", during=during, tick=tick, timeout=30)
    assert run.ok, run.error
    line = footer(run)
    assert line.startswith(f"openai:{d.model} · "), line
    assert "■ stopped" in line and "cancelled" not in line, line
