"""Each provider's batch API through its real SDK, against local servers that speak it
(tests/providers/batch_servers.py): submit, poll to the end, results matched by custom id,
errored and expired rows, cancel, and the faults that must say one line and lose nothing."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from typing import Any

import pytest
from providers.batch_servers import AnthropicBatches, BatchServer, GoogleBatches, OpenAIBatches
from providers.dialects import load
from wire_server import Reply

from llmring_jupyter.providers import AuthenticationError, BatchError, Message, ProviderUnavailableError, Request
from llmring_jupyter.providers.batch import api
from llmring_jupyter.providers.batch import openai as openai_batches
from llmring_jupyter.providers.batch.jobs import BatchAPI, BatchJob, Limits, Row, split

SERVERS: dict[str, type[BatchServer]] = {
    "openai": OpenAIBatches,
    "anthropic": AnthropicBatches,
    "google": GoogleBatches,
}
MODELS = {"openai": "gpt-4o-mini", "anthropic": "claude-haiku-4-5", "google": "gemini-2.5-flash"}
QUESTIONS = ["alpha", "beta", "gamma", "delta"]


@pytest.fixture(params=list(SERVERS))
def provider(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, BatchServer]]:
    with _serve(request.param, monkeypatch) as server:
        yield request.param, server


@contextlib.contextmanager
def _serve(name: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[BatchServer]:
    """The provider's batch server, its SDK pointed at it with a sentinel key."""
    dialect = load(name)
    server = SERVERS[name]()
    try:
        for k, v in {**dialect.key_env, **dialect.base_url_env(server.url)}.items():
            monkeypatch.setenv(k, v)
        yield server
    finally:
        server.close()


def _entries(client: BatchAPI, model: str, questions: list[str] = QUESTIONS) -> list[dict[str, Any]]:
    return [
        client.entry(
            model, f"row-{i}", Request(model, (Message("system", "Be brief."), Message("user", q)), max_tokens=50)
        )
        for i, q in enumerate(questions)
    ]


def _texts(rows: list[Row]) -> dict[str, str]:
    return {r.custom_id: "".join(c.delta for c in r.chunks) for r in rows if r.end == "succeeded"}


async def _run_to_end(client: BatchAPI, job: BatchJob) -> list[BatchJob]:
    seen = [job]
    while not seen[-1].ended:
        seen.append(await client.poll(seen[-1]))
    return seen


def test_submit_poll_and_results_matched_by_custom_id(provider: tuple[str, BatchServer]) -> None:
    name, server = provider
    client = api(name)
    model = MODELS[name]

    async def run() -> tuple[list[BatchJob], list[Row]]:
        job = await client.submit(model, _entries(client, model))
        seen = await _run_to_end(client, job)
        return seen, await client.results(seen[-1])

    seen, rows = asyncio.run(run())
    statuses = [j.status for j in seen]
    assert statuses[0] in ("queued", "in_progress") and "in_progress" in statuses and statuses[-1] == "completed"
    assert seen[-1].counts.succeeded == 4 and seen[-1].counts.pending == 0
    assert server.submitted == 1
    # matched by custom id, whatever order the results came in
    assert _texts(rows) == {f"row-{i}": f"Answer to: {q}" for i, q in enumerate(QUESTIONS)}
    final = rows[0].chunks[-1]
    assert final.finish_reason == "stop" and final.usage is not None and final.usage.completion_tokens == 5
    assert final.model is not None and final.model.startswith(f"{name}:")


def test_rows_go_unstreamed_with_their_custom_id_and_the_live_body() -> None:
    """What the batch holds is the live request's body, without the streaming parameters."""
    from llmring_jupyter.providers import anthropic, openai

    request = Request("m", (Message("user", "hi"),), temperature=0.5, max_tokens=9, options={"seed": 3})
    line = api("openai").entry("gpt-4o-mini", "r1", request)
    assert line["custom_id"] == "r1" and line["url"] == "/v1/chat/completions" and line["method"] == "POST"
    assert line["body"] == openai.body("gpt-4o-mini", request) and "stream" not in line["body"]
    params = api("anthropic").entry("claude-haiku-4-5", "r1", request)["params"]
    live = anthropic.body("claude-haiku-4-5", request)[0]
    assert live.pop("extra_body") == {"temperature": 0.5, "seed": 3}  # unknown to the SDK: sent in the body
    assert params == live | {"temperature": 0.5, "seed": 3} and "stream" not in params


def test_errored_rows_say_why_and_the_others_are_kept(provider: tuple[str, BatchServer]) -> None:
    name, server = provider
    server.errored = {"row-1"}
    client = api(name)

    async def run() -> list[Row]:
        job = await client.submit(MODELS[name], _entries(client, MODELS[name]))
        return await client.results((await _run_to_end(client, job))[-1])

    rows = asyncio.run(run())
    bad = [r for r in rows if r.end == "errored"]
    assert [r.custom_id for r in bad] == ["row-1"] and bad[0].error
    assert set(_texts(rows)) == {"row-0", "row-2", "row-3"}


@pytest.mark.parametrize("name", ["openai", "anthropic"])
def test_an_expired_batch_returns_the_rows_it_finished(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with _serve(name, monkeypatch) as server:
        server.expire_after = 1
        server.plan = ["in_progress", "expired" if name == "openai" else "ended"]
        client = api(name)

        async def run() -> tuple[BatchJob, list[Row]]:
            job = await client.submit(MODELS[name], _entries(client, MODELS[name]))
            end = (await _run_to_end(client, job))[-1]
            return end, await client.results(end)

        job, rows = asyncio.run(run())
        assert job.status == "expired" and job.counts.expired == 3 and job.counts.succeeded == 1
        assert _texts(rows) == {"row-0": "Answer to: alpha"}
        assert sorted(r.custom_id for r in rows if r.end == "expired") == ["row-1", "row-2", "row-3"]


def test_an_expired_gemini_job_returns_no_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    with _serve("google", monkeypatch) as server:
        server.plan = ["BATCH_STATE_RUNNING", "BATCH_STATE_EXPIRED"]
        client = api("google")

        async def run() -> tuple[BatchJob, list[Row]]:
            job = await client.submit(MODELS["google"], _entries(client, MODELS["google"]))
            end = (await _run_to_end(client, job))[-1]
            return end, await client.results(end)

        job, rows = asyncio.run(run())
        assert job.status == "expired" and job.counts.expired == 4 and rows == []


def test_cancel_keeps_the_rows_already_finished(provider: tuple[str, BatchServer]) -> None:
    name, server = provider
    server.plan = [server.running] * 3
    client = api(name)

    async def run() -> tuple[BatchJob, list[Row]]:
        job = await client.poll(await client.submit(MODELS[name], _entries(client, MODELS[name])))
        job = await client.cancel(job)
        end = (await _run_to_end(client, job))[-1]
        return end, await client.results(end)

    job, rows = asyncio.run(run())
    assert job.status == "cancelled"
    assert _texts(rows) == {"row-0": "Answer to: alpha", "row-1": "Answer to: beta"}


def test_a_refused_upload_says_so_and_submits_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    with _serve("openai", monkeypatch) as server:
        server.refuse_upload = True
        client = api("openai")
        with pytest.raises(BatchError, match=r"refused the batch's input file \(HTTP 400\): File is larger") as info:
            asyncio.run(client.submit("gpt-4o-mini", _entries(client, "gpt-4o-mini")))
        assert "\n" not in str(info.value) and server.submitted == 0


def test_a_key_without_batch_permission_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    with _serve("anthropic", monkeypatch) as server:
        server.server.routes[("POST", r"/v1/messages/batches")] = lambda seen: Reply.json(
            {"type": "error", "error": {"type": "permission_error", "message": "This key cannot use batches"}}, 403
        )
        client = api("anthropic")
        with pytest.raises(AuthenticationError, match=r"ANTHROPIC_API_KEY.*HTTP 403.*cannot use batches"):
            asyncio.run(client.submit("claude-haiku-4-5", _entries(client, "claude-haiku-4-5")))


def test_an_unreachable_provider_while_polling_is_typed(monkeypatch: pytest.MonkeyPatch) -> None:
    with _serve("openai", monkeypatch) as server:
        client = api("openai")

        async def run() -> None:
            job = await client.submit("gpt-4o-mini", _entries(client, "gpt-4o-mini"))
            server.close()
            await client.poll(job)

        with pytest.raises(ProviderUnavailableError, match="Cannot reach openai"):
            asyncio.run(run())


def test_rows_past_a_limit_are_split_into_as_few_batches_as_fit() -> None:
    entries = [{"custom_id": str(i), "body": "x" * 100} for i in range(10)]
    assert split(entries, Limits(requests=4, bytes=10**6)) == [range(4), range(4, 8), range(8, 10)]
    assert split(entries, Limits(requests=100, bytes=3 * 130)) == [range(3), range(3, 6), range(6, 9), range(9, 10)]
    assert split(entries, Limits(100, 10**6, tokens=25), tokens=[10] * 10) == [
        range(2),
        range(2, 4),
        range(4, 6),
        range(6, 8),
        range(8, 10),
    ]
    with pytest.raises(
        BatchError, match=r"Row 0's request is 0.0 MB, more than one batch may hold.*Nothing was submitted"
    ):
        split(entries, Limits(requests=100, bytes=50))


def test_ollama_has_no_batch_api() -> None:
    from llmring_jupyter.providers import ConfigurationError

    with pytest.raises(ConfigurationError, match="ollama has no batch API: run the rows live"):
        api("ollama")


def test_the_demo_batch_runs_offline_and_outlives_its_client(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The demo's simulated batch finishes its rows over a few moments, answers as the demo model
    does, and is found again by a new client (a new kernel) from its file beside the notebook."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LLMRING_DEMO_BATCH_SECONDS", "2")
    client = api("demo")

    async def run() -> tuple[list[BatchJob], list[Row]]:
        job = await client.submit("echo", _entries(client, "echo"))
        seen = [job]
        while not seen[-1].ended:
            await asyncio.sleep(0.05)
            seen.append(await api("demo").poll(seen[-1]))
        return seen, await api("demo").results(seen[-1])

    seen, rows = asyncio.run(run())
    assert not seen[0].ended and seen[0].counts.pending > 0 and seen[-1].status == "completed"
    assert "in_progress" in [j.status for j in seen]
    assert _texts(rows) == {f"row-{i}": q for i, q in enumerate(QUESTIONS)}  # demo:echo says the row back
    assert rows[0].chunks[-1].model == "demo:echo" and rows[0].chunks[-1].usage is not None


def test_cancelling_a_demo_batch_keeps_what_finished(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LLMRING_DEMO_BATCH_SECONDS", "600")
    client = api("demo")

    async def run() -> tuple[BatchJob, list[Row]]:
        job = await client.cancel(await client.submit("echo", _entries(client, "echo")))
        return job, await client.results(job)

    job, rows = asyncio.run(run())
    assert job.status == "cancelled" and job.counts.cancelled == 4 and rows == []


def test_openai_batches_are_cut_to_the_queued_tokens_the_account_is_said_to_have(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    entries = [{"custom_id": str(i), "body": "x" * 100} for i in range(10)]
    monkeypatch.delenv(openai_batches.TOKENS_VARIABLE, raising=False)
    assert split(entries, api("openai").limits, tokens=[10] * 10) == [range(10)], "no tier said: one batch"
    monkeypatch.setenv(openai_batches.TOKENS_VARIABLE, "25")
    assert len(split(entries, api("openai").limits, tokens=[10] * 10)) == 5, "25 tokens a batch: two rows each"
