"""Several models answer one cell side by side: one live view per model, in columns.

Each column is one answer's own :class:`~..answer.sinks.Output` (its live view with
status and Stop, and its footer once it ends), all streaming at once, so the
cell takes about as long as the slowest model. The answers are run by the
session's owner of answers in flight (:meth:`~..answer.inflight.InFlight.together`,
which also ends them on an interrupt or a re-run); a column is only their sink. Columns stack when the
output is narrow. At the end the grid is replaced, in the same output, by one
static bundle built from each answer's static rendering.

One answer joins the conversation: the first model's, or the one picked with
its Keep button (or ``%llm keep N``); the static output says which.
"""

from __future__ import annotations

import asyncio
import dataclasses
import html
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .. import render
from ..exceptions import BudgetError, Interrupted, UsageError, advise
from ..providers.errors import LLMError
from ..providers.types import Request
from ..result import Result
from .outputs import WidgetOutput

if TYPE_CHECKING:
    from ..answer.options import Options
    from ..answer.session import Question, Session
    from ..answer.sinks import Output

COLUMNS = "repeat(auto-fit, minmax(18rem, 1fr))"  # as many columns as fit; stacked when narrow
GRID_STYLE = f"display:grid;grid-template-columns:{COLUMNS};gap:12px;align-items:start"
COLUMN_STYLE = "min-width:0;padding:6px 10px;border:1px solid rgba(127,127,127,.35);border-radius:6px"
HEAD_STYLE = "font:600 12px system-ui,sans-serif;color:#57606a;margin-bottom:4px"
ERROR_STYLE = "color:#cf222e;font-family:system-ui,sans-serif"
KEPT = "✓ kept in the conversation"
#: The side-by-side cells whose Keep buttons stay, the latest ones: older buttons are closed and
#: their answers let go, so a long session does not hold every answer it ever compared.
KEEP_CELLS = 10


def column_html(result: Result, fmt: str) -> str:
    """One column's static answer: the answer's own static rendering, and its error line if it failed."""
    data, _ = render.bundle(result, fmt=fmt)
    return data["text/html"] + _error_html(result)


def error_line(result: Result) -> str | None:
    """What a failed column says, with the notebook's next step (``%llm key …``)."""
    if result.interrupted or result.error is None:
        return None
    return advise(result.exception).message if isinstance(result.exception, LLMError) else result.error


def _error_html(result: Result) -> str:
    line = error_line(result)
    return f'<div style="{ERROR_STYLE}">✗ {html.escape(line)}</div>' if line else ""


def _head_html(index: int, result: Result, kept: bool) -> str:
    name = f"{index + 1} · {html.escape(result.requested)}{f' · {KEPT}' if kept else ''}"
    return f'<div class="llmring-column-head" style="{HEAD_STYLE}">{name}</div>'


def grid_bundle(results: list[Result], fmt: str, kept: int | None) -> tuple[dict[str, str], dict[str, Any]]:
    """The static output of a side-by-side cell: the columns with their footers, and which answer was kept."""
    columns = "".join(
        f'<div class="llmring-column" style="{COLUMN_STYLE}">{_head_html(i, r, i == kept)}{column_html(r, fmt)}</div>'
        for i, r in enumerate(results)
    )
    plain = []
    for i, r in enumerate(results):
        line = error_line(r)
        error = f"\n✗ {line}" if line else ""
        text = render.bundle(r, fmt=fmt)[0]["text/plain"]
        plain.append(f"[{i + 1}] {r.requested}{' (kept)' if i == kept else ''}\n{text}{error}")
    data = {
        "text/html": f'<div class="llmring-side-by-side" style="{GRID_STYLE}">{columns}</div>',
        "text/plain": "\n\n".join(plain),
    }
    record = {"answers": [render.provenance(r) for r in results], "kept": kept}
    return data, {"llmring": record}


class _Parts:
    """The layout and style widgets every column shares: each widget would otherwise open its
    own (a comm and ~1.7 KB each), which is most of what side by side adds to the answers' bytes."""

    def __init__(self) -> None:
        import ipywidgets
        from ipywidgets.widgets.widget_string import HTMLStyle

        self.column = ipywidgets.Layout(min_width="0")
        self.html = HTMLStyle()
        self.button = ipywidgets.ButtonStyle()
        self.button_layout = ipywidgets.Layout(width="auto")

    def grid(self, children: list[Any]) -> Any:
        import ipywidgets

        return ipywidgets.GridBox(children, layout=ipywidgets.Layout(grid_template_columns=COLUMNS, grid_gap="12px"))


class Column(WidgetOutput):
    """One model's column: a :class:`~.outputs.WidgetOutput` whose live view sits in the grid
    (every column shares the grid's one output) and ends by showing its footer under it."""

    def __init__(self, index: int, parts: _Parts, fmt: str) -> None:
        import ipywidgets

        super().__init__(fmt)
        self.index = index
        self._widgets = parts
        self.box = ipywidgets.VBox(layout=parts.column)

    def start(self, request: Request, on_stop: Callable[[], None]) -> None:
        from .widget import StreamView

        self._view = StreamView(on_stop=on_stop, model_label=request.model, format=self._fmt)
        self.box.children = (self._view,)

    def delta(self, text: str) -> None:
        self._view.push(text)  # no answer-so-far output of its own: the grid's static answer replaces all

    def finish(self, result: Result) -> None:
        """The column shows its footer (and error) under the text it streamed, while the others go on;
        its static answer comes with the grid's, so no answer crosses the wire twice."""
        import ipywidgets

        self.status("done")
        footer = f'<div style="{render.FOOTER_STYLE}">{html.escape(render.footer_text(result))}</div>'
        shown = ipywidgets.HTML(footer + _error_html(result), style=self._widgets.html, layout=self._widgets.column)
        self.box.children = (shown,) if self._view is None else (self._view, shown)  # refused: no view


@dataclass
class Comparison:
    """A side-by-side cell's answers and which one joins the conversation."""

    question: Question
    models: tuple[str, ...]
    fmt: str
    kept: int = 0
    results: list[Result] | None = None
    _grid: Any = field(default=None, repr=False)  # the display handle of the columns
    _bar: Any = field(default=None, repr=False)  # the Keep buttons, which outlive the stream
    _bar_handle: Any = field(default=None, repr=False)

    def keep(self, index: int) -> None:
        """Make answer ``index`` (0-based) the one in the conversation, and show it."""
        if not 0 <= index < len(self.models):
            raise UsageError(f"That side-by-side cell has {len(self.models)} answers: keep 1 to {len(self.models)}.")
        if self.results is not None and not self.results[index].messages:
            raise UsageError(f"Answer {index + 1} ({self.models[index]}) was never sent: keep another.")
        self.kept = index
        self._record()
        if self.results is not None and self._grid is not None:
            self._show_static()
        self._show_bar()

    def _show_static(self) -> None:
        data, metadata = grid_bundle(self.results or [], self.fmt, self.kept)
        self._grid.update(data, metadata=metadata, raw=True)

    def _record(self) -> None:
        q = self.question
        if self.results is not None and q.chat is not None and self.results[self.kept].messages:
            kept = self.results[self.kept]
            asked = kept.messages[-1]  # the question as sent, with its images and documents
            q.chat.record(q.key, asked.content, kept, asked.attachments)

    def _show_bar(self) -> None:
        if self._bar is None:
            return
        for i, button in enumerate(self._bar.children):
            chosen = i == self.kept
            button.description = f"{'✓ Kept' if chosen else 'Keep'} {i + 1}: {self.models[i]}"
            button.button_style = "success" if chosen else ""
            button.disabled = self.results is not None and not self.results[i].messages  # never sent
        view = {"model_id": self._bar.model_id, "version_major": 2, "version_minor": 0}
        kept = f"Answer {self.kept + 1} ({self.models[self.kept]})"
        data = {
            "application/vnd.jupyter.widget-view+json": view,
            "text/plain": f"{kept} joins the conversation; %llm keep N picks another.",
        }
        # what the page shows instead once the kernel restarts (js/gone.js): the buttons do nothing then
        gone = f"{kept} joined the conversation; the kernel restarted since, which ended it and its Keep buttons."
        metadata = {"llmring": {"gone": gone}}
        if self._bar_handle is None:
            from IPython.display import display

            self._bar_handle = display(data, metadata=metadata, raw=True, display_id=True)
        else:
            self._bar_handle.update(data, metadata=metadata, raw=True)

    def close(self) -> None:
        """Close the Keep buttons (when the cell runs again, or is no longer one of the latest)."""
        if self._bar is not None:
            _close(self._bar)
            self._bar = None
            self._bar_handle.update({"text/plain": ""}, raw=True)


def _close(widget: Any) -> None:
    """Close a widget with its children, layout and style: ipywidgets leaves those open."""
    import ipywidgets

    for child in getattr(widget, "children", ()):
        _close(child)
    for part in ("layout", "style"):
        sub = getattr(widget, part, None)
        if isinstance(sub, ipywidgets.Widget):
            sub.close()
    widget.close()


async def answers(session: Session, question: Question, comparisons: dict[str, Comparison]) -> list[Result]:
    """Stream every model of the question into its column at once; record the kept answer.

    Returns the results in the order the models were named."""
    import ipywidgets
    from IPython.display import display

    opts = question.opts
    models = opts.models
    question.records = False  # the kept answer is recorded, once all have ended
    comparison = Comparison(question, models, opts.shown_as)
    earlier = comparisons.pop(question.key, None)
    if earlier is not None:  # the cell runs again: its old Keep buttons are gone from the page
        earlier.close()
    comparisons[question.key] = comparison
    while len(comparisons) > KEEP_CELLS:  # the oldest cell's buttons go, with its answers
        comparisons.pop(next(iter(comparisons))).close()
    parts = _Parts()
    columns = [Column(i, parts, opts.shown_as) for i in range(len(models))]
    grid = parts.grid([c.box for c in columns])
    comparison._grid = display(grid, display_id=True)
    if question.chat is not None:  # with --no-history no answer joins a conversation: nothing to keep
        buttons = [ipywidgets.Button(style=parts.button, layout=parts.button_layout) for _ in models]
        comparison._bar = parts.grid(buttons)
        for i, button in enumerate(buttons):
            button.on_click(lambda _b, i=i: comparison.keep(i))
        comparison._show_bar()

    try:
        outputs = await session.wait_turn(question, list(columns))
    except Interrupted:  # nothing was asked: no columns, no Keep buttons
        comparison._grid.update({"text/plain": ""}, raw=True)
        _close(grid)
        comparison.close()
        raise
    outcomes = await session.inflight.together(
        question.key,
        [
            _column(session, question, dataclasses.replace(opts, models=(model,)), output)
            for model, output in zip(models, outputs, strict=True)
        ],
    )
    failed = [o for o in outcomes if isinstance(o, BaseException) and not isinstance(o, asyncio.CancelledError)]
    if failed:  # the question itself is wrong (an attachment), or our bug: the cell fails with it
        comparison._grid.update({"text/plain": ""}, raw=True)
        _close(grid)
        comparison.close()
        raise failed[0]
    comparison.results = [
        o if isinstance(o, Result) else _interrupted(model, output)  # interrupted before it began
        for model, output, o in zip(models, outputs, outcomes, strict=True)
    ]
    comparison.kept = next((i for i, r in enumerate(comparison.results) if r.messages), 0)  # the first one asked
    comparison._record()
    comparison._show_bar()  # a column never sent cannot be kept
    comparison._show_static()
    _close(grid)
    parts.html.close()  # shared: still open if no column got as far as its footer
    return comparison.results


async def _column(session: Session, question: Question, opts: Options, output: Output) -> Result:
    """One column's answer; refused by the budget before it was sent, it fails alone: the other
    columns' answers, streamed and paid for, stay."""
    try:
        return await session.answer_one(question, opts, output)
    except BudgetError as exc:
        result = Result.unasked(opts.models[0], "error", error=exc.message, exception=exc)
        output.finish(result)
        return result


def _interrupted(model: str, output: Output) -> Result:
    """A column the interrupt ended before its answer began: it says so, like a single answer."""
    result = Result.unasked(model, "cancelled", interrupted=True)
    output.finish(result)
    return result


def raise_if_all_failed(results: list[Result]) -> None:
    """A side-by-side cell fails only if every answer failed (or it was interrupted)."""
    if any(r.interrupted for r in results):
        next(r for r in results if r.interrupted).raise_for_error()
    failed = [r for r in results if r.exception is not None]
    if failed and len(failed) == len(results):
        if len(failed) == 1:
            failed[0].raise_for_error()
        reasons = "; ".join(f"{r.requested}: {error_line(r)}" for r in failed)
        raise LLMError(f"All {len(results)} answers failed ({reasons}).")
