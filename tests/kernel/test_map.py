"""``%%llm --map`` in a real kernel: the demo model, and each provider's real SDK against the wire
server answering every row from its own prompt (a 429 storm first, one row refused), counted there.

One kernel for the module; a dozen rows a run."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from kernel_providers import one_line_error, provider_env, set_env, value
from kernel_session import Execution, Kernel
from providers.dialects import NAMES, Dialect, load
from wire_server import Reply, Seen, WireServer, most_at_once, serving

ROWS = 12


def _dialect(path: str) -> Dialect:
    if "generatecontent" in path.lower():
        return load("google")
    if path.startswith("/api/"):
        return load("ollama")
    return load("anthropic" if path.startswith("/v1/messages") else "openai")


class RowServer:
    """Answers each row with ``ANSWER <its prompt>``; a storm of 429s first; ``row 5`` refused (400)."""

    def __init__(self) -> None:
        self.asked: list[str] = []  # the prompts answered or refused, as they came (429s not counted)
        self.storm = 0  # the next this many requests are rate limited
        self.rate_limited = 0
        self.pause = 0.0  # seconds before each answer's body
        self.lock = threading.Lock()
        self.answered: list[Seen] = []  # the requests answered or refused (429s not counted)

    @property
    def most(self) -> int:
        """The most rows the server was answering at once."""
        return most_at_once(self.answered)

    def __call__(self, seen: Seen) -> Reply:
        d = _dialect(seen.path)
        prompt = d.sent_messages(seen)[-1][1]
        with self.lock:
            if self.storm:
                self.storm -= 1
                self.rate_limited += 1
                return d.http_error(429, "Rate limit reached for requests", retry_after=0.2)
            self.asked.append(prompt)
            self.answered.append(seen)
        if prompt.endswith("row 5"):
            return d.http_error(400, "this row is refused")
        reply = d.answer(["ANSWER ", prompt])
        return dataclasses.replace(reply, parts=[self.pause, *reply.parts]) if self.pause else reply


class _EveryPost(dict[tuple[str, str], Callable[[Seen], Reply]]):
    """Routes: the wire server's own (Ollama's /api/show), and every other POST to the row server."""

    def __init__(self, base: dict[tuple[str, str], Callable[[Seen], Reply]], rows: RowServer) -> None:
        super().__init__(base)
        self.rows = rows

    def get(self, key: Any, default: Any = None) -> Any:
        found = super().get(key)
        return found if found is not None else (self.rows if key[0] == "POST" else default)


@pytest.fixture(scope="module")
def wire() -> Iterator[WireServer]:
    yield from serving()


@pytest.fixture(scope="module")
def rows(wire: WireServer) -> RowServer:
    server = RowServer()
    wire.routes = _EveryPost(wire.routes, server)
    return server


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("map")  # the kernels' working folder: the replay cache is in it


def _kernel(folder: Path, wire: WireServer) -> Kernel:
    k = Kernel(cwd=folder, env={"LLMRING_DEMO_DELAY": "0.001"})
    assert k.run("%load_ext llmring_jupyter").ok
    set_env(k, provider_env(wire.url))
    assert k.run(f"items = [f'row {{i}}' for i in range({ROWS})]").ok
    return k


@pytest.fixture(scope="module")
def kernel(folder: Path, wire: WireServer, rows: RowServer) -> Iterator[Kernel]:
    k = _kernel(folder, wire)
    yield k
    k.close()


def _progress_comms(run: Execution) -> tuple[set[str], set[str]]:
    opened = {m["content"]["comm_id"] for m in run.of("comm_open") if "state" in m["content"]["data"].get("state", {})}
    closed = {m["content"]["comm_id"] for m in run.of("comm_close")}
    return opened, closed


def test_demo_rows_of_a_table_become_a_dataframe_on_its_index(kernel: Kernel) -> None:
    assert kernel.run(
        "import pandas as pd\n"
        "people = pd.DataFrame({'name': ['ada', 'bob', 'cy'], 'age': [36, 41, 29]}, index=['a', 'b', 'c'])"
    ).ok
    run = kernel.run("%%llm demo:echo --map people --out labels\nPerson {{row.name}} aged {{row['age']}}")
    assert run.ok, run.error
    assert value(kernel, "_llm.texts") == ["Person ada aged 36", "Person bob aged 41", "Person cy aged 29"]
    assert value(kernel, "labels is _llm and type(_llm).__name__") == "MapResult"
    frame = value(kernel, "people.join(_llm.to_pandas()).to_dict('index')")
    assert frame["b"] == {"name": "bob", "age": 41, "text": "Person bob aged 41", "error": None}
    final = run.final["data"]
    assert "3 rows · 3 answered" in final["text/plain"] and "Person cy aged 29" in final["text/html"]
    opened, closed = _progress_comms(run)
    assert len(opened) == 1 and opened <= closed, "one progress view for every row, closed at the end"
    assert value(kernel, "len(_llm.errors), _llm.usage.total_tokens > 0") == (0, True)
    usage = kernel.run("%llm usage").of("display_data")[-1]["content"]["data"]["text/plain"]
    assert next(line for line in usage.splitlines() if line.startswith("demo:echo")).split()[1] == "3"


def test_demo_schema_rows_give_one_column_per_field(kernel: Kernel) -> None:
    assert kernel.run("from pydantic import BaseModel\nclass Label(BaseModel):\n    topic: str\n    score: int").ok
    assert kernel.run("few = items[:3]").ok
    run = kernel.run("%%llm demo --map few --schema Label --no-cache\nLabel {{row}}")
    assert run.ok, run.error
    columns = value(kernel, "list(_llm.to_pandas().columns), len(_llm), type(_llm.data[0]).__name__")
    assert columns == (["topic", "score", "error"], 3, "Label")


def test_bad_input_is_one_line_each_and_nothing_is_sent(kernel: Kernel, rows: RowServer) -> None:
    before = len(rows.asked)
    cases = {
        "%%llm openai:gpt-4o-mini --map nowhere\n{{row}}": "no variable 'nowhere'",
        "%%llm openai:gpt-4o-mini --map empty\n{{row}}": "empty",
        "%%llm openai:gpt-4o-mini --map people\n{{row.colour}}": "no column 'colour'",
        "%%llm openai:gpt-4o-mini --map items --background\n{{row}}": "leave out --background",
        "%%llm openai:gpt-4o-mini demo --map items\n{{row}}": "one model",
        "%%llm openai:gpt-4o-mini --map 3\n{{row}}": "no variable",
        "%%llm nosuchalias --map items\n{{row}}": "Unknown model alias",
    }
    assert kernel.run("empty = []\nimport pandas as pd\npeople = pd.DataFrame({'name': ['ada']})").ok
    for cell, words in cases.items():
        line = one_line_error(kernel.run(cell))
        assert words in line, line
    assert len(rows.asked) == before


def test_dry_run_shows_the_first_row_and_the_estimate_and_the_budget_refuses_it(
    kernel: Kernel, rows: RowServer
) -> None:
    before = len(rows.asked)
    dry = kernel.run("%%llm openai:gpt-4o-mini --map items --max-tokens 100 --dry-run\nClassify {{row}}")
    assert dry.ok, dry.error
    shown = dry.of("display_data")[-1]["content"]["data"]["text/plain"]
    assert "Classify row 0" in shown and "Classify row 1" not in shown
    assert f"Estimate for {ROWS} rows" in shown and f"{100 * ROWS:,} output tokens (assumed: 100 a row)" in shown
    assert kernel.run("%config LLMMagics.budget_tokens = 500").ok
    try:
        line = one_line_error(kernel.run("%%llm openai:gpt-4o-mini --map items --max-tokens 100\nClassify {{row}}"))
    finally:
        assert kernel.run("%config LLMMagics.budget_tokens = None").ok
    assert (
        line.startswith("BudgetError") and f"Estimate for {ROWS} rows" in line and "tokens left of the budget" in line
    )
    assert len(rows.asked) == before, "nothing was sent"


@pytest.mark.parametrize("name", NAMES)
def test_every_row_answered_once_in_order_through_a_429_storm(kernel: Kernel, rows: RowServer, name: str) -> None:
    d = load(name)
    rows.asked.clear()
    rows.storm, rows.rate_limited = 6, 0
    run = kernel.run(f"%%llm {d.provider}:{d.model} --map items --no-cache\nClassify {{{{row}}}}", timeout=90)
    assert run.ok, run.error  # one row failed, the others did not: the cell does not fail
    assert rows.rate_limited == 6
    texts = value(kernel, "_llm.texts")
    assert [t for i, t in enumerate(texts) if i != 5] == [f"ANSWER Classify row {i}" for i in range(ROWS) if i != 5]
    errors = value(kernel, "_llm.errors")
    assert list(errors) == [5] and "refused" in errors[5]
    assert sorted(rows.asked) == sorted(f"Classify row {i}" for i in range(ROWS)), "each row asked once"


def test_interrupt_keeps_finished_rows_and_a_rerun_sends_only_the_rest(kernel: Kernel, rows: RowServer) -> None:
    rows.asked.clear()
    rows.pause = 0.4
    cell = "%%llm openai:gpt-4o-mini --map items --concurrency 2\nSummarise {{row}}"

    def interrupt_after_some(k: Kernel) -> None:
        if len(rows.asked) >= 5 and not getattr(k, "_sent", False):
            k._sent = True  # type: ignore[attr-defined]
            k.interrupt()

    try:
        stopped = kernel.run(cell, tick=interrupt_after_some, timeout=90)
    finally:
        rows.pause = 0.0
    assert not stopped.ok and "Interrupted" in stopped.error
    done = value(kernel, "len(_llm) - len(_llm.errors)")
    assert 1 <= done < ROWS
    assert "not run" in value(kernel, "next(iter(_llm.errors.values()))")
    asked = len(rows.asked)
    again = kernel.run(cell, timeout=90)
    assert again.ok, again.error
    assert value(kernel, "_llm.replayed, len(_llm.errors)") == (done, 1)
    assert len(rows.asked) - asked == ROWS - done, "only the rows without a stored answer were sent"
    assert "replayed" in again.final["data"]["text/plain"]


def test_stop_ends_the_run_at_once_keeping_every_finished_row(kernel: Kernel, rows: RowServer) -> None:
    rows.asked.clear()
    rows.answered.clear()
    rows.pause = 0.3
    pressed: list[str] = []

    def press_stop(msg: dict[str, Any], k: Kernel) -> None:
        if msg["msg_type"] == "comm_open" and "state" in msg["content"]["data"].get("state", {}):
            pressed.append(msg["content"]["comm_id"])  # the progress view
        elif pressed and len(pressed) == 1 and len(rows.asked) >= 4:
            pressed.append(k.send_custom(pressed[0], {"kind": "stop"}))

    try:
        run = kernel.run(
            "%%llm anthropic:claude-haiku-4-5 --map items --concurrency 2 --no-cache\nStop at {{row}}",
            during=press_stop,
            timeout=90,
        )
    finally:
        rows.pause = 0.0
    assert run.ok, run.error  # Stop is not a failure: Run All goes on
    assert len(pressed) == 2, "Stop was pressed"
    assert rows.most <= 2, "--concurrency 2: never more than two requests at once"
    done, not_run = value(kernel, "len(_llm) - len(_llm.errors), sum('not run' in e for e in _llm.errors.values())")
    assert done >= 1 and not_run >= 1 and done + not_run <= ROWS
    assert len(rows.asked) < ROWS, "the rows after Stop were never sent"
    assert "ended early: stopped" in run.final["data"]["text/plain"]


def test_after_a_kernel_restart_a_rerun_sends_only_rows_without_a_stored_answer(
    folder: Path, wire: WireServer, rows: RowServer
) -> None:
    cell = "%%llm openai:gpt-4o-mini --map first\nRestart {{row}}"
    k = _kernel(folder, wire)
    try:
        assert k.run("first = items[:4]").ok
        assert k.run(cell).ok
    finally:
        k.close()
    rows.asked.clear()
    again = _kernel(folder, wire)
    try:
        assert again.run("first = items[:6]").ok  # two rows more than before the restart
        dry = again.run(cell.replace("\n", " --dry-run\n", 1))
        assert "Estimate for 6 rows (4 stored in the replay cache: no cost)" in dry.stdout + str(dry.messages)
        run = again.run(cell)
        assert run.ok, run.error
        assert sorted(rows.asked) == ["Restart row 4", "Restart row 5"], "rows 0-3 replay"
        assert value(again, "_llm.replayed, list(_llm.errors)") == (4, [5])
        assert "4 replayed (no cost)" in run.final["data"]["text/plain"]
    finally:
        again.close()


def test_the_configured_concurrency_caps_a_run_and_a_run_whose_every_row_fails_fails_the_cell(
    kernel: Kernel, rows: RowServer
) -> None:
    rows.asked.clear()
    rows.answered.clear()
    rows.pause = 0.1
    assert kernel.run("%config LLMMagics.map_concurrency = 1").ok
    try:
        run = kernel.run("%%llm google:gemini-2.5-flash --map items --no-cache\nOne at a time: {{row}}", timeout=90)
    finally:
        rows.pause = 0.0
        assert kernel.run("%config LLMMagics.map_concurrency = None").ok
    assert run.ok, run.error
    assert rows.most == 1 and len(rows.asked) == ROWS
    assert kernel.run("fives = ['a', 'b']").ok
    failed = kernel.run("%%llm ollama:llama3.2:3b --map fives --no-cache\nAgain row 5")
    assert "refused" in one_line_error(failed)
    assert value(kernel, "len(_llm.errors)") == 2, "the rows are bound before the cell fails"


def test_the_budget_stops_a_run_that_passes_it_keeping_what_was_done(kernel: Kernel) -> None:
    magics = "get_ipython().magics_manager.registry['LLMMagics']"
    assert kernel.run(f"{magics}.budget_tokens = {magics}.session.ledger.tokens + 4000").ok
    try:  # each row streams 1,000 tokens where the estimate assumes 256: the run passes the budget midway
        run = kernel.run("%%llm demo --map items --no-cache -o tokens=1000 --concurrency 2\nLong answer on {{row}}")
    finally:
        assert kernel.run("%config LLMMagics.budget_tokens = None").ok
    assert run.ok, run.error
    stopped, done = value(kernel, "_llm.stopped, len(_llm) - len(_llm.errors)")
    assert stopped.startswith("Token budget reached") and 1 <= done < ROWS
    assert "not run: Token budget reached" in value(kernel, "_llm.errors[11]")
