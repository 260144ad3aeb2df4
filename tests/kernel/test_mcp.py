"""MCP servers' tools in a real kernel, with real servers: the official reference servers from PyPI
(mcp-server-time, and mcp-server-git on a temporary repository) over stdio, and a server made
with the SDK (tests/mcp_server.py) over stdio and over Streamable HTTP on 127.0.0.1.

One kernel for the module; each server starts once (and again only where a test stops it).
The demo model calls the first tool it is given, with a word of the prompt as a string.
"""

from __future__ import annotations

import ast
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kernel_session import Execution, Kernel, Msg

TEST_SERVER = str(Path(__file__).resolve().parent.parent / "mcp_server.py")
MARK = uuid.uuid4().hex  # in the time server's environment, to find its process
TOKEN = "tok-" + uuid.uuid4().hex  # the HTTP server's bearer token: never shown anywhere


def value(kernel: Kernel, expr: str) -> Any:
    run = kernel.run(f"print(repr(({expr})))")
    assert run.ok, run.error
    return ast.literal_eval(run.stdout)


def blocks(run: Execution) -> list[dict[str, Any]]:
    return [d for d in run.deltas if d.get("kind") == "tool"]


def answering(decision: bool) -> Any:
    def during(msg: Msg, k: Kernel) -> None:
        data = msg["content"].get("data", {}) if msg["msg_type"] == "comm_msg" else {}
        content = data.get("content", {}) if data.get("method") == "custom" else {}
        if content.get("kind") == "tool" and content["state"] == "approve":
            k.send_custom(msg["content"]["comm_id"], {"kind": "approve", "id": content["id"], "run": decision})

    return during


def time_server_pids() -> list[int]:
    """The time server's processes, found by the mark in their environment."""
    pids = []
    for environ in Path("/proc").glob("[0-9]*/environ"):
        try:
            if f"MCP_TEST_MARK={MARK}".encode() in environ.read_bytes():
                pids.append(int(environ.parent.name))
        except OSError:
            continue
    return pids


def time_server_running() -> bool:
    return bool(time_server_pids())


@pytest.fixture(scope="module")
def http_port() -> Iterator[int]:
    """The SDK's Streamable HTTP server on 127.0.0.1, which refuses a request without the token."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    process = subprocess.Popen(
        [sys.executable, TEST_SERVER, "http", str(port), TOKEN], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            assert time.monotonic() < deadline, "the HTTP MCP server did not start"
            time.sleep(0.2)
    yield port
    process.terminate()
    process.wait(10)


@pytest.fixture(scope="module", autouse=True)
def servers(kernel: Kernel, http_port: int) -> None:
    """A .mcp.json beside the notebook (time, git on a new repository, the SDK server), and the
    HTTP server in %config with its token from the environment."""
    folder = Path(value(kernel, "__import__('os').getcwd()"))
    repo = folder / "Repo"
    repo.mkdir()
    git = ["git", "-C", str(repo), "-c", "user.name=Ada", "-c", "user.email=ada@example.com"]
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    (repo / "report.md").write_text("# Report\n")
    subprocess.run([*git, "add", "report.md"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "Add the quarterly report"], check=True)
    python = sys.executable
    config = {
        "mcpServers": {
            "time": {
                "command": python,
                "args": ["-m", "mcp_server_time", "--local-timezone", "UTC"],
                "env": {"MCP_TEST_MARK": "${MCP_TEST_MARK}"},
            },
            "git": {"command": python, "args": ["-m", "mcp_server_git", "--repository", "Repo"], "approve": False},
            "sdk": {"command": python, "args": [TEST_SERVER, "stdio"], "approve": False, "timeout": 1},
        }
    }
    (folder / ".mcp.json").write_text(json.dumps(config, indent=2))
    web = {"url": f"http://127.0.0.1:{http_port}/mcp", "headers": {"Authorization": "Bearer ${MCP_TEST_TOKEN}"}}
    setup = (
        f"import os\nos.environ['MCP_TEST_MARK'] = {MARK!r}\nos.environ['MCP_TEST_TOKEN'] = {TOKEN!r}\n"
        f"%config LLMMagics.mcp_servers = {{'web': {{**{web!r}, 'approve': False}}}}"
    )
    assert kernel.run(setup).ok


def test_a_reference_server_over_stdio_is_asked_about_runs_and_its_result_goes_back(kernel: Kernel) -> None:
    cell = "%%llm demo --tools mcp:time/get_current_time\nWhat time is it in UTC?"
    run = kernel.run(cell, during=answering(True))
    assert run.ok, run.error
    states = [b["state"] for b in blocks(run)]
    assert "approve" in states and states[-1] == "done", "an MCP tool asks before it runs, by default"
    assert blocks(run)[-1]["name"] == "time__get_current_time"
    assert '"timezone": "UTC"' in blocks(run)[-1]["result"]
    assert value(kernel, "_llm.tool_calls[0].arguments") == {"timezone": "UTC"}
    assert value(kernel, "_llm.exchange[1].role") == "tool"
    assert '"timezone": "UTC"' in value(kernel, "_llm.exchange[1].content"), "the result went back to the model"
    assert "`time__get_current_time` said:" in value(kernel, "_llm.text")
    html = run.final["data"]["text/html"]
    assert "time__get_current_time(timezone=&quot;UTC&quot;)" in html
    assert "&quot;timezone&quot;: &quot;UTC&quot;" in html
    assert time_server_running(), "the server stays up for the next cell"

    skipped = kernel.run(cell, during=answering(False))
    assert skipped.ok and value(kernel, "_llm.tool_calls[0].status") == "skipped"
    quiet = kernel.run("%%llm demo --tools mcp:time --approve off\nWhat time is it in UTC?")
    assert quiet.ok, quiet.error
    assert "approve" not in [b["state"] for b in blocks(quiet)], "--approve off: nothing is asked"
    assert value(kernel, "_llm.tool_calls[0].status") == "done"


def test_the_git_server_reads_a_repository_and_mixes_with_notebook_functions(kernel: Kernel) -> None:
    assert kernel.run('def summarize_table(name: str) -> str:\n    """Summarize a table."""\n    return name').ok
    run = kernel.run("%%llm demo --tools mcp:git/git_log,summarize_table\nWhat changed in Repo lately?")
    assert run.ok, run.error
    assert "approve" not in [b["state"] for b in blocks(run)], 'the config says "approve": false'
    assert blocks(run)[-1]["name"] == "git__git_log"
    assert "Add the quarterly report" in blocks(run)[-1]["result"]
    assert kernel.run("%config LLMMagics.tools = ['summarize_table', 'mcp:git/git_status']").ok
    run = kernel.run("%%llm demo --dry-run\nWhat changed in Repo lately?")
    assert run.ok, run.error
    shown = run.of("display_data")[0]["content"]["data"]["text/plain"]
    assert "summarize_table" in shown and "git__git_status" in shown, "%config LLMMagics.tools takes mcp: names too"
    assert kernel.run("%config LLMMagics.tools = []").ok


def test_mcp_lists_servers_states_and_tools_and_stop_ends_a_server(kernel: Kernel) -> None:
    assert kernel.run("%%llm demo --tools mcp:time --approve off\nWhat time is it in UTC?").ok
    listing = kernel.run("%llm mcp")
    assert listing.ok, listing.error
    out = listing.stdout
    assert "time  (stdio:" in out and "asks before each call" in out and "running" in out
    assert "mcp:time/convert_time" in out and "Convert time between timezones" in out
    assert "web  (http: http://127.0.0.1:" in out and "(headers: Authorization)" in out
    assert TOKEN not in out and "MCP_TEST_MARK" not in out
    git = kernel.run("%llm mcp git")
    assert git.ok and "mcp:git/git_log" in git.stdout and "Shows the commit logs" in git.stdout, git.stdout
    assert "time  (" not in git.stdout, "one server's listing"
    stop = kernel.run("%llm mcp stop time")
    assert stop.ok and "Stopped the MCP server time." in stop.stdout
    assert not time_server_running(), "its process ended"
    assert "stopped" in kernel.run("%llm mcp").stdout
    again = kernel.run("%%llm demo --tools mcp:time --approve off\nWhat time is it in UTC?")
    assert again.ok and value(kernel, "_llm.tool_calls[0].status") == "done", "it starts again when needed"
    (pid,) = time_server_pids()
    os.kill(pid, signal.SIGKILL)  # it dies between cells
    revived = kernel.run("%%llm demo --tools mcp:time --approve off\nWhat time is it in UTC?")
    assert revived.ok and value(kernel, "_llm.tool_calls[0].status") == "done", "a dead server is started again"
    assert time_server_pids() not in ([], [pid])


def test_unloading_the_extension_stops_its_servers(kernel: Kernel) -> None:
    assert kernel.run("%%llm demo --tools mcp:time --approve off\nWhat time is it in UTC?").ok
    assert time_server_running()
    assert kernel.run("%unload_ext llmring_jupyter").ok
    assert not time_server_running(), "stopped, not left behind"
    assert kernel.run("%load_ext llmring_jupyter").ok
    assert "web  (http:" in kernel.run("%llm mcp").stdout, "the settings stay for the reloaded extension"


def test_streamable_http_with_headers_from_the_environment_and_from_a_background_answer(kernel: Kernel) -> None:
    run = kernel.run("%%llm demo --tools mcp:web/add\nAdd these")
    assert run.ok, run.error
    assert '"sum": 6' in value(kernel, "_llm.tool_calls[0].result"), "3 + 3, the demo's whole numbers"
    background = kernel.run("%%llm demo --tools mcp:web/add --background\nAdd these")
    assert background.ok, background.error
    assert kernel.run("pending = _llm\nawait pending").ok
    assert value(kernel, "pending.result.tool_calls[0].status") == "done", "a background answer's loop calls it too"
    saved = json.dumps([m["content"] for m in run.messages])
    assert TOKEN not in saved, "the token from the environment is never shown"
    first = kernel.run("%%llm demo --tools mcp:web/add --cache --no-history\nAdd these")
    again = kernel.run("%%llm demo --tools mcp:web/add --cache --no-history\nAdd these")
    assert first.ok and again.ok, again.error
    assert value(kernel, "(_llm.replayed is not None, _llm.tool_calls[0].status)") == (True, "done")
    assert '"sum": 6' in value(kernel, "_llm.tool_calls[0].result"), "the replay cache keeps the call and its result"


def test_faults_are_one_line_and_the_cell_keeps_what_streamed(kernel: Kernel, http_port: int) -> None:
    def fails(cell: str, says: str) -> None:
        run = kernel.run(cell)
        assert not run.ok and says in run.error, run.error
        assert len(run.of("error")[0]["content"]["traceback"]) == 1, run.error

    fails("%%llm demo --tools mcp:nope\nHi", "There is no MCP server 'nope'; the servers are: time, git, sdk, web.")
    fails("%%llm demo --tools mcp:time/nope\nHi", "The MCP server time has no tool 'nope'; its tools are:")
    assert kernel.run("%llm mcp add gone -- no-such-mcp-server-xyz --flag").ok
    fails("%%llm demo --tools mcp:gone\nHi", "the command 'no-such-mcp-server-xyz' was not found (%llm mcp add)")
    assert kernel.run(f"%llm mcp add open http://127.0.0.1:{http_port}/mcp").ok
    fails("%%llm demo --tools mcp:open\nHi", f"MCP server open at http://127.0.0.1:{http_port}/mcp refused")
    assert kernel.run("os.makedirs('bad', exist_ok=True)\nopen('bad/.mcp.json', 'w').write('{\"mcpServers\": {,}}')").ok
    assert kernel.run("os.chdir('bad')").ok
    fails("%%llm demo --tools mcp:time\nHi", "bad/.mcp.json, line 1: Expecting property name enclosed in double quotes")
    assert kernel.run("os.chdir('..')").ok

    crash = kernel.run("%%llm demo --tools mcp:sdk/crash\nCrash please")
    assert crash.ok, "a tool's failure is the model's to read, not the cell's"
    error = value(kernel, "_llm.tool_calls[0].error")
    assert "MCP server sdk stopped during the call of crash (crashing: please)" in error, error
    assert "what the tools told me" in value(kernel, "_llm.text"), "the answer went on after the crash"
    slow = kernel.run("%%llm demo --tools mcp:sdk/pause\nWait")
    assert slow.ok, slow.error
    assert "sdk/pause did not answer within 1 s" in value(kernel, "_llm.tool_calls[0].error")
    both = kernel.run("%%llm demo --dry-run --tools mcp:sdk/add,mcp:web/add\nAdd")
    shown = both.of("display_data")[0]["content"]["data"]["text/plain"]
    assert "sdk__add" in shown and "web__add" in shown, "two servers' tools of one name stay two, qualified"
