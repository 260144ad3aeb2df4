"""``%%llm --map NAME --batch`` in real kernels: the offline demo batch end to end, and OpenAI's
Batch API at a local server (tests/providers/batch_servers.py) where a re-run after a kernel
restart re-attaches to the running batch instead of submitting it again, counted at the server.

One kernel for the module (a second one stands for the restart); a few rows a run."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from kernel_providers import one_line_error, set_env, value
from kernel_session import Kernel
from providers.batch_servers import OpenAIBatches
from providers.dialects import load

from llmring_jupyter.providers import Usage
from llmring_jupyter.providers.pricing import batch_price

ITEMS = "items = ['alpha', 'beta', 'gamma']"


@pytest.fixture(scope="module")
def server() -> Iterator[OpenAIBatches]:
    s = OpenAIBatches()
    yield s
    s.close()


def _kernel(cwd: Path, server: OpenAIBatches) -> Kernel:
    k = Kernel(cwd=cwd, env={"LLMRING_DEMO_BATCH_SECONDS": "0.6", "LLMRING_BATCH_POLL": "0.2"})
    assert k.run("%load_ext llmring_jupyter").ok
    d = load("openai")
    set_env(k, {**d.key_env, **d.base_url_env(server.url)})
    assert k.run(ITEMS).ok
    return k


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("batch")


@pytest.fixture(scope="module")
def kernel(folder: Path, server: OpenAIBatches) -> Iterator[Kernel]:
    k = _kernel(folder, server)
    yield k
    k.close()


def test_a_demo_batch_returns_at_once_fills_in_and_a_rerun_replays(kernel: Kernel) -> None:
    run = kernel.run("%%llm demo:echo --map items --batch --out fields\nAbout {{row}}")
    assert run.ok, run.error
    shown = run.of("update_display_data")[0]["content"]  # the first state: submitted, not yet done
    assert "demo:echo demobatch_" in shown["data"]["text/plain"]
    batches = shown["metadata"]["llmring_jupyter"]["batches"]
    assert len(batches) == 1 and batches[0]["rows"] and batches[0]["status"] in ("queued", "in_progress")
    assert value(kernel, "fields is _llm and type(_llm).__name__") == "BatchMapResult"
    waited = kernel.run("await fields\nprint(repr(fields.texts))")
    assert waited.ok, waited.error
    assert waited.stdout.strip() == repr(["About alpha", "About beta", "About gamma"])
    listed = kernel.run("%llm batches")
    assert "demo:echo demobatch_" in listed.of("display_data")[-1]["content"]["data"]["text/plain"]
    assert "completed" in listed.of("display_data")[-1]["content"]["data"]["text/plain"]
    again = kernel.run("%%llm demo:echo --map items --batch\nAbout {{row}}")
    assert again.ok, again.error
    assert value(kernel, "_llm.done, _llm.replayed, len(_llm.jobs)") == (True, 3, 0)


def test_cancel_keeps_what_finished_and_the_rest_goes_again(kernel: Kernel) -> None:
    assert kernel.run("import os; os.environ['LLMRING_DEMO_BATCH_SECONDS'] = '600'").ok
    try:
        run = kernel.run("%%llm demo:echo --map items --batch\nCancel {{row}}")
        assert run.ok, run.error
        job = value(kernel, "_llm.jobs[0].id")
        cancelled = kernel.run(f"%llm batch cancel {job}")
        assert cancelled.ok and f"{job} · cancelled" in cancelled.stdout
        assert kernel.run("await _llm").ok
        errors = value(kernel, "_llm.errors")
        assert len(errors) == 3 and "cancelled before it ran; it goes again" in errors[0]
    finally:
        assert kernel.run("os.environ['LLMRING_DEMO_BATCH_SECONDS'] = '0.6'").ok
    again = kernel.run("%%llm demo:echo --map items --batch\nCancel {{row}}")
    assert again.ok
    assert value(kernel, "_llm.jobs[0].id != " + repr(job)), "the cancelled rows went in a new batch"


def test_a_dry_run_shows_the_estimate_at_the_batch_price_and_submits_nothing(
    kernel: Kernel, server: OpenAIBatches
) -> None:
    before = server.submitted
    dry = kernel.run("%%llm openai:gpt-4o-mini --map items --batch --max-tokens 100 --dry-run\nLabel {{row}}")
    assert dry.ok, dry.error
    shown = dry.of("display_data")[-1]["content"]["data"]["text/plain"]
    assert "Estimate for 3 rows" in shown and "With --batch: $" in shown and "batch price" in shown
    assert server.submitted == before


def test_bad_uses_of_batch_are_one_line_each(kernel: Kernel) -> None:
    cases = {
        "%%llm demo --batch\nhello": "add --map NAME",
        "%%llm ollama:llama3.2 --map items --batch\n{{row}}": "ollama has no batch API",
    }
    for cell, words in cases.items():
        line = one_line_error(kernel.run(cell))
        assert words in line, line


def test_a_rerun_after_a_restart_reattaches_instead_of_submitting_again(
    kernel: Kernel, server: OpenAIBatches, folder: Path
) -> None:
    server.plan = ["in_progress"] * 1000  # it runs until the test lets it end
    cell = "%%llm openai:gpt-4o-mini --map items --batch\nLabel {{row}}"
    first = kernel.run(cell)
    assert first.ok, first.error
    assert server.submitted == 1
    batch_id = value(kernel, "_llm.jobs[0].id")
    kernel.close()  # the kernel goes; the batch runs on at the provider
    second = _kernel(folder, server)
    try:
        again = second.run(cell)
        assert again.ok, again.error
        assert server.submitted == 1, "re-attached: no second submission"
        assert value(second, "_llm.jobs[0].id") == batch_id
        server.unavailable = True  # the provider goes away while the batch is polled: the view says so
        for _ in range(200):
            if "Polling again in" in (value(second, "_llm.note") or ""):
                break
            time.sleep(0.05)
        assert "HTTP 503" in value(second, "_llm.note") and "Polling again in" in value(second, "_llm.note")
        server.unavailable = False
        server.batches[batch_id].plan = ["completed"]
        assert second.run("await _llm").ok
        assert value(second, "_llm.note") is None
        # counted at the batch price, in _llm, the job and %llm usage alike
        cost, estimated = batch_price("openai:gpt-4o-mini-2024-07-18", Usage.of(10, 5))
        assert cost is not None and not estimated
        assert value(second, "round(_llm.cost, 12), round(_llm.jobs[0].cost, 12)") == (round(3 * cost, 12),) * 2
        usage = second.run("%llm usage").of("display_data")[-1]["content"]["data"]["text/plain"]
        assert "openai:gpt-4o-mini-2024-07-18" in usage
        assert value(second, "_llm.texts") == [
            "Answer to: Label alpha",
            "Answer to: Label beta",
            "Answer to: Label gamma",
        ]
        assert value(second, "_llm.jobs[0].status, _llm.jobs[0].counts.succeeded") == ("completed", 3)
        assert server.submitted == 1
    finally:
        second.close()
