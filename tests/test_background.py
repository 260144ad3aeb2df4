"""Background answers without a kernel: the session's path on the real demo adapter, an
asyncio loop, and an output that records what a view would be sent."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from recorder import Recorder
from shell import loaded_shell, magics

from llmring_jupyter.answer.background import QUEUED, PendingResult
from llmring_jupyter.answer.options import Options
from llmring_jupyter.answer.session import Session
from llmring_jupyter.exceptions import Interrupted, UsageError
from llmring_jupyter.providers.errors import LLMError
from llmring_jupyter.result import Result


@pytest.fixture
def session() -> Iterator[Session]:
    """The session of a real shell with the extension loaded (its settings are LLMMagics' own)."""
    for shell in loaded_shell():
        yield magics(shell).session


def _opts(model: str = "demo", delay: float = 0.005, **kw: Any) -> Options:
    return Options.of(model, {"delay": delay, **kw})


def _cell(session: Session, cell_id: str) -> None:
    session.pre_run_cell(SimpleNamespace(cell_id=cell_id, raw_cell=""))


async def _until(check: Callable[[], bool]) -> None:
    while not check():
        await asyncio.sleep(0.005)


def test_the_result_fills_in_and_awaiting_it_gives_the_finished_result(session: Session) -> None:
    async def main() -> None:
        output = Recorder()
        pending = session.ask_in_background("Hello there", _opts(), output)
        assert isinstance(pending, PendingResult)
        assert (pending.done, pending.text, pending.result) == (False, "", None)
        with pytest.raises(AttributeError, match="await _llm"):
            _ = pending.usage
        await _until(lambda: len(pending.text) > 20)
        streaming = (pending.done, output.text.startswith(pending.text))
        assert streaming == (False, True), ".text is the text so far"
        assert "streaming" in repr(pending)
        result = await pending
        assert pending.done and result is pending.result and result.finish_reason == "stop"
        assert pending.text == result.text == output.text
        assert pending.usage == result.usage and pending.model == "demo:chat", "attributes read through"
        assert output.events[-1] == ("finish", "stop")

    asyncio.run(main())


def test_wait_refuses_on_the_loop_thread_and_blocks_elsewhere(session: Session) -> None:
    async def main() -> None:
        pending = session.ask_in_background("Hi", _opts(delay=0.01), Recorder())
        with pytest.raises(UsageError, match="await _llm"):
            pending.wait()
        waited: list[Result] = []
        thread = threading.Thread(target=lambda: waited.append(pending.wait(10)))
        thread.start()
        await _until(lambda: pending.done)
        await asyncio.to_thread(thread.join, 5)
        assert waited and waited[0].finish_reason == "stop"
        assert pending.wait().finish_reason == "stop", "once done it returns on any thread"

    asyncio.run(main())


def test_a_failed_answer_prints_one_line_into_its_own_output_and_raises_when_awaited(
    session: Session, capsys: pytest.CaptureFixture[str]
) -> None:
    async def main() -> None:
        output = Recorder()
        pending = session.ask_in_background("Hi", _opts("demo:nosuch"), output)
        with pytest.raises(LLMError, match="no model 'nosuch'"):
            await pending
        assert pending.done and pending.finish_reason == "error"
        assert output.events[-1] == ("finish", "error")

    asyncio.run(main())
    err = capsys.readouterr().err
    known = "use demo, demo:chat, demo:echo or demo:thinker"
    assert err == f"UnknownModelError: The demo provider has no model 'nosuch': {known}.\n"


def test_stop_keeps_the_text_and_is_not_a_failure(session: Session) -> None:
    async def main() -> None:
        pending = session.ask_in_background("Hi", _opts(delay=0.01), Recorder())
        await _until(lambda: len(pending.text) > 10)
        pending.stop()
        result = await pending
        assert result.finish_reason == "cancelled" and not result.interrupted and result.text

    asyncio.run(main())


def test_a_later_question_waits_and_records_after_the_earlier_turn_with_its_own_key(session: Session) -> None:
    async def main() -> None:
        _cell(session, "first")
        pending = session.ask_in_background("First turn", _opts(delay=0.01), Recorder())
        _cell(session, "second")  # another cell runs before the background answer ends
        output = Recorder()
        result = await session.ask("Second turn", _opts("demo:echo"), output)
        assert pending.done, "the later question waited for the earlier turn"
        assert output.events[:2] == [("start", "demo:echo"), ("status", QUEUED)], "its view says it waits"
        assert ("status", "waiting") in output.events
        assert [m.content[:14] for m in result.messages] == ["First turn", "## Demo answer", "Second turn"]
        turns = session.conversations.get().turns
        assert [(t.key, t.prompt) for t in turns] == [("first#0", "First turn"), ("second#0", "Second turn")]

    asyncio.run(main())


def test_running_a_cell_again_stops_its_earlier_background_answer(session: Session) -> None:
    async def main() -> None:
        _cell(session, "same")
        old = session.ask_in_background("First run", _opts(delay=0.02), Recorder())
        await _until(lambda: len(old.text) > 10)
        _cell(session, "same")
        new = session.ask_in_background("Second run", _opts("demo:echo"), Recorder())
        assert (await old).finish_reason == "cancelled", "its output is gone: the old answer stops"
        assert (await new).text == "Second run"
        turns = session.conversations.get().turns
        assert [(t.key, t.prompt) for t in turns] == [("same#0", "Second run")], "the re-run replaced its turn"

    asyncio.run(main())


def test_new_and_no_history_questions_do_not_wait(session: Session) -> None:
    async def main() -> None:
        pending = session.ask_in_background("Long", _opts(delay=0.02), Recorder())
        for opts in (_opts("demo:echo", new=True), _opts("demo:echo", history=False)):
            output = Recorder()
            await session.ask("Now", opts, output)
            assert ("status", QUEUED) not in output.events
        assert not pending.done
        pending.stop()
        await pending
        assert [t.prompt for t in session.conversations.get().turns] == ["Now"], "the old turn went with --new"

    asyncio.run(main())


async def _queued(session: Session) -> tuple[PendingResult, asyncio.Future[Result], Recorder]:
    """A long background answer, and a later question of its conversation waiting for it."""
    pending = session.ask_in_background("Long", _opts(delay=0.02), Recorder())
    output = Recorder()
    asked = asyncio.ensure_future(session.ask("Later", _opts("demo:echo"), output))
    await _until(lambda: ("status", QUEUED) in output.events)
    return pending, asked, output


def test_stop_while_queued_ends_the_wait_without_a_request(session: Session) -> None:
    async def main() -> None:
        pending, asked, output = await _queued(session)
        assert output.stop is not None
        output.stop()
        result = await asked
        assert not pending.done, "the earlier answer goes on"
        assert result.finish_reason == "cancelled" and result.text == ""
        pending.stop()
        await pending

    asyncio.run(main())


def test_an_interrupt_while_queued_fails_the_question_and_leaves_the_earlier_answer(session: Session) -> None:
    async def main() -> None:
        pending, asked, output = await _queued(session)
        asked.cancel()
        with pytest.raises(Interrupted, match="nothing was asked"):
            await asked
        assert output.events[-1] == ("finish", "cancelled")
        assert not pending.done
        pending.stop()
        await pending

    asyncio.run(main())


@pytest.mark.parametrize("line", ["demo --background", "demo demo:echo"])
def test_terminal_ipython_says_background_and_side_by_side_need_a_kernel(line: str) -> None:
    for shell in loaded_shell():  # no kernel: the terminal's path
        with pytest.raises(UsageError, match="need a Jupyter kernel; ask one model here"):
            shell.run_cell_magic("llm", line, "Hello")
        assert "_llm" not in shell.user_ns, "nothing was asked"
