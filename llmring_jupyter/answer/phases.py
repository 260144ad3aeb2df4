"""An answer's thinking phases as they stream: each begins, grows, ends and learns its tokens.

A reasoning model thinks in phases (before its text, between its tool calls), each shown as a
section of its own that collapses when it ends. Tracking them is a concern apart from running
the stream (:mod:`.stream`), which only says what arrived: a piece of thinking, text or a call
(the phase ends), the step's end (its tokens are counted).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from typing import Protocol

from ..providers.types import Notice, Reasoning
from ..result import Thought


class Shows(Protocol):
    """Where the phases are shown: the answer's :class:`~.sinks.Output`."""

    def thought(self, thought: Thought) -> None: ...
    def think(self, text: str) -> None: ...


class Batches(Protocol):
    """How their text reaches the view: the answer's :class:`~.stream.Coalescer`."""

    def add(self, text: str, to: Callable[[str], None] | None = None) -> None: ...
    def flush(self) -> None: ...


class Phases:
    """The thinking phases of one answer, over all its requests (steps).

    ``began(at)`` is told the time each phase begins: a phase is a token for the answer's clock.
    Nothing is shown where the request does not ask to show thinking; the phases are kept anyway.
    """

    def __init__(self, output: Shows, coalescer: Batches, show: bool, began: Callable[[float], None]) -> None:
        self.thoughts: list[Thought] = []  # the phases so far, the one in progress last
        self._output = output
        self._coalescer = coalescer
        self._show = show
        self._began = began
        self._text: list[str] | None = None  # the text of the phase in progress; None: none is
        self._piece = 0  # the block index of its latest piece
        self._since = 0.0
        self._steps = 0

    def new_step(self) -> int:
        """A request's stream begins: the index its first phase will have."""
        self._steps += 1
        return len(self.thoughts)

    def think(self, piece: Reasoning, at: int) -> None:
        """A piece of thinking: the phase in progress grows, or a new one begins at ``at`` in the text."""
        if not piece.text:
            return
        text = piece.text
        if self._text is None:
            self._coalescer.flush()  # the text before it reaches the view before its section
            self._text, self._piece = [], piece.index
            self._since = time.perf_counter()
            self._began(self._since)
            self._phase(Thought(len(self.thoughts), self._steps, at))
        elif piece.index != self._piece:  # the step's next block: a paragraph of its own
            self._piece, text = piece.index, "\n\n" + text
        self._text.append(text)
        if self._show:
            self._coalescer.add(text, self._output.think)

    def end(self) -> None:
        """The phase in progress ends (its text or a call began, or its step ended): it collapses."""
        if self._text is None:
            return
        self._coalescer.flush()
        text, self._text = "".join(self._text), None
        self._phase(replace(self.thoughts[-1], text=text, seconds=time.perf_counter() - self._since))

    def count(
        self, first: int, tokens: int | None, final: tuple[Reasoning, ...], notices: tuple[Notice, ...], at: int
    ) -> None:
        """The step's reasoning ``tokens``, once counted: on its one phase, or on a line of their own
        where the provider billed thinking it did not stream (the thinking of its ``final``
        blocks, if they hold any), placed ``at`` in the text."""
        mine = self.thoughts[first:]
        if len(mine) == 1 and tokens:
            self._phase(replace(mine[0], tokens=tokens))
        elif not mine and (tokens or any(r.text for r in final)):
            text = "\n\n".join(r.text for r in final if r.text)
            why = next((n.text for n in notices if n.kind == "thinking"), None)
            self._phase(Thought(len(self.thoughts), self._steps, at, text, tokens=tokens, at_end=True, why=why))
            if text and self._show:
                self._output.think(text)

    def _phase(self, thought: Thought) -> None:
        """Keep a phase (new, or a newer state of the last one) and show it."""
        if self.thoughts and self.thoughts[-1].index == thought.index:
            self.thoughts[-1] = thought
        else:
            self.thoughts.append(thought)
        if self._show:
            self._output.thought(thought)
