"""No API key reaches anything a user keeps or shares.

Sentinel keys sit in the kernel's environment for a representative session: answers
from every provider, every error mode but the idle timeout (whose message holds nothing the server sent; the
fault suite covers it), with the server echoing the key back in its error
bodies, as some APIs do), ``%llm models``, ``%llm history``, ``%llm chats``,
``--dry-run``, exports to JSON and Markdown, the replay cache and the ``llm`` log, and
a notebook saved by nbclient. No output, metadata, error, exported file, cache, log,
saved notebook or line the kernel process logged may contain a sentinel, while the
wire server proves the keys were really sent.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from kernel_providers import SENTINELS, provider_env
from kernel_session import Execution, Kernel
from providers.dialects import NAMES, Dialect, load
from wire_server import CUT, Reply, WireServer

SENTINEL = "SENTINEL"


def _leaks(text: str) -> list[str]:
    return [line.strip()[:200] for line in text.splitlines() if SENTINEL in line]


def _echoing_faults(d: Dialect) -> list[Reply]:
    """Every error mode, each message echoing the provider's key as a careless API might."""
    key = next(
        iter(d.key_env and {k: SENTINELS[k] for k in d.key_env if k in SENTINELS}.values()), SENTINELS["OPENAI_API_KEY"]
    )
    cut = d.answer(["Some ", "text ", "here"])
    cut.parts = [*cut.parts[:3], CUT]
    return [
        d.http_error(401, f"Incorrect API key provided: {key}. Find yours at the dashboard."),
        d.http_error(429, f"Rate limit for key {key}", retry_after=3),
        d.http_error(500, f"Internal error handling key={key}"),
        d.in_stream_error(["Some ", "text"], f"Overloaded (key {key})"),
        cut,
        d.without_end_marker(["Some ", "text"]),
        d.malformed(["Some ", "text"]),
    ]


@pytest.fixture(scope="module")
def logged(wire: WireServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Kernel, Path]]:
    """A kernel started with the sentinel keys, its own stdout and stderr going to a file."""
    cwd = tmp_path_factory.mktemp("secrets")
    log = cwd / "kernel.log"
    k = Kernel(cwd=cwd, env={**provider_env(wire.url), "LLMRING_DEMO_DELAY": "0"}, log=log)
    # INFO logging to the process's stderr, as a user debugging requests would turn on
    assert k.run(
        "%load_ext llmring_jupyter\nimport logging, sys\n"
        "logging.basicConfig(level=logging.INFO, stream=sys.__stderr__, force=True)"
    ).ok
    yield k, cwd
    k.close()


def test_a_whole_session_shows_and_logs_no_key(logged: tuple[Kernel, Path], wire: WireServer) -> None:
    kernel, cwd = logged
    runs: list[Execution] = []
    for setting in ("cache = 'refresh'", "log_path = 'logs.db'"):  # every answer stored and logged too
        assert kernel.run(f"%config LLMMagics.{setting}").ok
    for name in NAMES:
        d = load(name)
        model = f"{name}:{d.model}"
        wire.queue(d.answer(["Fine ", "answer."]), *_echoing_faults(d))
        runs.append(kernel.run(f"%%llm {model}\nHello", cell_id=f"{name}-ok"))
        assert runs[-1].ok, runs[-1].error
        for n in range(7):
            runs.append(kernel.run(f"%%llm {model}\nFault {n}", cell_id=f"{name}-{n}", timeout=30))
            assert not runs[-1].ok
    assert any("<OPENAI_API_KEY>" in r.error or "redacted" in r.error for r in runs), "echoed keys are scrubbed"
    wire.queue(load("openai").answer(["ok"]))
    for code in (
        "%llm models",
        "%llm chats",
        "%llm history",
        "%%llm --dry-run demo\nWhat would be sent?",
        "%%llm demo --system 'Be brief'\nAnd the demo?",
        "print(repr(_llm), _llm.messages, _llm.parameters)",
        f"%llm export {cwd / 'chat.json'}",
        f"%llm export {cwd / 'chat.md'}",
        "%%llm openai:gpt-4o-mini -o temperature=0.2 --out kept\nLast one",
        "kept",
    ):
        runs.append(kernel.run(code))
        assert runs[-1].ok, (code, runs[-1].error)
    assert "key set (OPENAI_API_KEY)" in runs[-10].stdout

    sent = {
        s.headers.get("authorization", "") + s.headers.get("x-api-key", "") + s.headers.get("x-goog-api-key", "")
        for s in wire.seen
    }
    assert all(any(key in header for header in sent) for key in SENTINELS.values()), (
        "the keys did reach the provider: the sentinels were really in use"
    )
    shown = json.dumps(
        [m["content"] for r in runs for m in r.messages] + [r.reply["content"] for r in runs],
        default=str,
        ensure_ascii=False,
    )
    assert _leaks(shown) == []
    for exported in ("chat.json", "chat.md"):
        assert _leaks((cwd / exported).read_text()) == [], exported
    for stored in (".llmring/cache.sqlite", "logs.db"):
        assert SENTINEL.encode() not in (cwd / stored).read_bytes(), stored
    kernel.run("import sys; sys.stdout.flush(); sys.__stdout__.flush(); sys.__stderr__.flush()")
    log = (cwd / "kernel.log").read_text(errors="replace")
    assert "HTTP Request: POST http://127.0.0.1" in log, "the log file holds the kernel's own log lines"
    assert _leaks(log) == []


def test_a_saved_notebook_holds_no_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, wire: WireServer) -> None:
    import nbformat
    from nbclient import NotebookClient
    from nbformat.v4 import new_code_cell, new_notebook

    for var, val in provider_env(wire.url).items():
        monkeypatch.setenv(var, val)
    monkeypatch.setenv("LLMRING_DEMO_DELAY", "0")
    d = load("openai")
    model = f"openai:{d.model}"
    faults = _echoing_faults(d)
    wire.queue(d.answer(["Fine ", "answer."]), faults[0], faults[3])
    nb = new_notebook(
        cells=[
            new_code_cell("%load_ext llmring_jupyter"),
            new_code_cell(f"%%llm {model}\nHello"),
            new_code_cell(f"%%llm {model}\nThis fails with the key echoed"),
            new_code_cell(f"%%llm {model}\nSo does this, mid-answer"),
            new_code_cell("%llm models"),
            new_code_cell("%llm history"),
            new_code_cell("%%llm demo --dry-run\nWhat would be sent?"),
            new_code_cell("_llm"),
        ]
    )
    NotebookClient(
        nb, timeout=60, kernel_name="python3", allow_errors=True, resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    path = tmp_path / "saved.ipynb"
    nbformat.write(nb, path)
    saved = path.read_text()
    assert "Fine answer." in saved and '"output_type": "error"' in saved
    assert _leaks(saved) == []


PASTED = "sk-proj-Pasted0123456789abcdefXYZ"  # a key of OpenAI's shape, pasted into a prompt


def test_a_dry_run_shows_no_key_given_as_an_option(kernel: Kernel) -> None:
    headers = '{"Authorization": "Bearer SENTINEL-bearer-7c2e", "X-Trace": "trace-kept-1"}'
    run = kernel.run(
        f"%%llm openai:gpt-4o-mini --dry-run -o api_key=SENTINEL-option-9d4b -o 'extra_headers={headers}' "
        f"-o keyword=graphs\nWhat would be sent? My key is {PASTED}."
    )
    assert run.ok, run.error
    (shown,) = run.of("display_data")
    text = json.dumps(shown["content"], ensure_ascii=False)
    assert _leaks(text) == [] and PASTED not in text
    plain = shown["content"]["data"]["text/plain"]
    assert "trace-kept-1" in plain and "'keyword': 'graphs'" in plain, "what is not a secret is shown as sent"
    assert "'api_key': '<redacted>'" in plain and "'Authorization': '<redacted>'" in plain


def test_an_export_holds_no_key(kernel: Kernel, tmp_path: Path) -> None:
    configured = SENTINELS["OPENAI_API_KEY"]
    assert kernel.run(f"%%llm demo:echo --chat exported\nMy keys: {configured} and {PASTED}, keyword: graphs").ok
    for name in ("chat.json", "chat.md"):
        run = kernel.run(f"%llm export exported {tmp_path / name}")
        assert run.ok, run.error
        saved = (tmp_path / name).read_text()
        assert "keyword: graphs" in saved, "the conversation itself is kept"
        assert _leaks(saved) == [] and PASTED not in saved, name
    assert kernel.run(f"%llm load {tmp_path / 'chat.json'} reloaded").ok, "an export still loads"


def test_an_answer_keeps_no_key_given_as_an_option(kernel: Kernel) -> None:
    run = kernel.run("%%llm demo -o api_key=SENTINEL-option-51aa -o keyword=graphs\nHello")
    assert run.ok, run.error
    shown = kernel.run("print(_llm.parameters)")
    assert "SENTINEL" not in shown.stdout and "'api_key': '<redacted>'" in shown.stdout, shown.stdout
    assert "'keyword': 'graphs'" in shown.stdout, "what is not a secret is kept as sent"
