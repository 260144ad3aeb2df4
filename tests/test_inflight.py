"""The one owner of the answers in flight, without a kernel: answers run together end together on
an interrupt and each hands back its outcome; a cell run again stops its --map still running."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from types import SimpleNamespace

import pytest
from shell import loaded_shell, magics

import llmring_jupyter
from llmring_jupyter.answer.inflight import InFlight
from llmring_jupyter.answer.session import Session
from llmring_jupyter.map_result import MapResult


@pytest.fixture
def session() -> Iterator[Session]:
    for shell in loaded_shell():
        yield magics(shell).session


def test_an_interrupt_ends_every_answer_run_together_and_the_cell_gets_each_outcome() -> None:
    async def main() -> tuple[list[object], list[str], int, bool]:
        inflight = InFlight()
        heard: list[str] = []

        async def quick() -> str:
            return "answered"

        async def streaming() -> str:
            try:
                await asyncio.sleep(30)
            except asyncio.CancelledError:
                return "the text so far"  # as an answer does: it keeps what it streamed
            return "never"

        async def failing() -> str:
            raise ValueError("a bad attachment")

        async def cell() -> list[object]:
            return list(await inflight.together("cell#0", [quick(), streaming(), failing()], on_stop=heard.append))

        task = asyncio.ensure_future(cell())
        await asyncio.sleep(0.05)
        task.cancel()  # what a kernel interrupt does to the running cell
        outcomes = await task  # the cell goes on: it shows what each answer kept, then raises Interrupted
        return outcomes, heard, task.cancelling(), inflight._by_turn == {}

    outcomes, heard, cancelling, forgotten = asyncio.run(main())
    assert outcomes[:2] == ["answered", "the text so far"]
    assert isinstance(outcomes[2], ValueError)
    assert heard == ["interrupted"] and cancelling == 0 and forgotten


def test_a_cell_run_again_stops_its_map_still_running_in_a_task(session: Session) -> None:
    rows = [f"row {i}" for i in range(20)]

    def cell(cell_id: str) -> None:
        session.pre_run_cell(SimpleNamespace(cell_id=cell_id, raw_cell=""))

    async def main() -> tuple[MapResult, MapResult]:
        cell("tagging")
        first = asyncio.ensure_future(
            llmring_jupyter.map("Tag {{row}}", rows, "demo", concurrency=2, cache=False, delay=0.01)
        )
        while not session.ledger.tokens:  # until its first row is answered
            await asyncio.sleep(0.01)
        cell("tagging")  # the same cell runs again
        second = await llmring_jupyter.map("Tag {{row}}", rows[:2], "demo", cache=False, delay=0.001)
        return await first, second

    first, second = asyncio.run(main())
    assert first.stopped == "stopped", "the earlier run of the cell was stopped"
    assert first.texts[0] and "not run: the run was stopped" in first.errors.values()
    assert second.stopped is None and all(second.texts)
