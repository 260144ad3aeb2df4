"""The notebook's exceptions, remembered per execution count: ``{{Err}}``, ``{{Err[5]}}``, ``%llm fix``.

An IPython ``post_run_cell`` hook keeps, for each cell that raised, what a model
needs to explain it and nothing it does not: the exception's type and message,
a traceback in plain text (no ANSI colours) trimmed to the frames that matter —
the notebook's own cells, plus where the code entered a library and where it
raised — and the source of the cell that was run. The text is made when the
error happens, so no frame (and none of its variables) is kept alive.
"""

from __future__ import annotations

import os
import re
import sys
import sysconfig
import traceback
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from ..exceptions import UsageError
from .values import fenced

KEEP = 100  # errors remembered (oldest forgotten first)
MAX_MESSAGE = 2_000  # characters of an exception's message
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_OWN_CELLS = ("%%llm", "%llm")  # a failed question is not the error a user asks about


@dataclass(frozen=True)
class CellError:
    """One cell's exception, as text ready for a prompt."""

    count: int | None  # the execution count of the cell that raised
    type: str
    message: str
    traceback: str  # plain text, trimmed
    source: str  # the text of the cell that was run

    def _llm_prompt_(self) -> str:
        where = f"cell [{self.count}]" if self.count is not None else "a cell"
        return (
            f"Error in {where}: {self.type}: {self.message}\n\n"
            f"The cell's code:\n{fenced(self.source, 'python')}\n\n"
            f"Traceback (trimmed to the frames that matter):\n{self.traceback}"
        )


class ErrorLog:
    """The errors of this notebook's cells by execution count; ``Err`` in a prompt."""

    def __init__(self, shell: Any) -> None:
        self._shell = shell
        self._errors: OrderedDict[int, CellError] = OrderedDict()
        self._unnumbered: CellError | None = None

    def post_run_cell(self, result: Any) -> None:
        """IPython event: remember the exception of the cell that just ran, if it raised."""
        exc = result.error_in_exec or result.error_before_exec
        source = getattr(result.info, "raw_cell", "") or ""
        if exc is None or source.lstrip().startswith(_OWN_CELLS):
            return
        error = self.describe(exc, source, result.execution_count)
        if error.count is None:
            self._unnumbered = error
            return
        self._errors[error.count] = error
        self._errors.move_to_end(error.count)
        while len(self._errors) > KEEP:
            self._errors.popitem(last=False)
        self._unnumbered = None

    def adopt_last(self) -> None:
        """Remember the error IPython showed last (``sys.last_value``), if one came before the
        extension was loaded: a user who loads it to ask about a failure finds that failure."""
        exc = getattr(sys, "last_value", None)
        if exc is None or self._errors:
            return
        labels = [self._cell_name(f.filename) for f in traceback.extract_tb(exc.__traceback__)]
        found = next((re.search(r"\[(\d+)\]", label) for label in labels if label), None)
        if found is None:
            return  # raised outside any cell we can name (a syntax error, a magic): nothing to fix
        count = int(found.group(1))
        history = getattr(getattr(self._shell, "history_manager", None), "input_hist_raw", [])
        source = history[count] if count < len(history) else ""
        self._errors[count] = self.describe(exc, source, count)

    def describe(self, exc: BaseException, source: str, count: int | None) -> CellError:
        message = _ANSI.sub("", str(exc))
        if len(message) > MAX_MESSAGE:
            message = message[:MAX_MESSAGE] + " …"
        return CellError(count, type(exc).__name__, message, self._traceback(exc), source)

    def _llm_prompt_(self) -> str:
        """``{{Err}}``: the most recent error."""
        return self.latest()._llm_prompt_()

    def latest(self) -> CellError:
        if self._unnumbered is not None:
            return self._unnumbered
        if not self._errors:
            raise UsageError(
                "No cell has raised an error since %load_ext llmring_jupyter: {{Err}} and %llm fix "
                "need one (run the failing cell again)."
            )
        return next(reversed(self._errors.values()))

    def __getitem__(self, count: int) -> CellError:
        if count not in self._errors:
            known = ", ".join(str(n) for n in self._errors) or "none yet"
            raise UsageError(f"Cell [{count}] raised no error that is remembered (cells with errors: {known}).")
        return self._errors[count]

    def _traceback(self, exc: BaseException) -> str:
        cause = exc.__cause__ or (None if exc.__suppress_context__ else exc.__context__)
        if isinstance(exc, SyntaxError):  # the offending line and its caret say it all
            lines = [line.rstrip("\n") for line in traceback.format_exception_only(type(exc), exc)]
        else:
            lines = [*_frames(self._trimmed(exc)), f"{type(exc).__name__}: {_ANSI.sub('', str(exc))[:MAX_MESSAGE]}"]
        if cause is not None:
            lines.append(f"(raised while handling {type(cause).__name__}: {_ANSI.sub('', str(cause))[:200]})")
        return "\n".join(lines)

    def _trimmed(self, exc: BaseException) -> list[tuple[str, traceback.FrameSummary | int]]:
        """The frames to show: the notebook's own (its cells and local modules), and of each run of
        library frames its first (where the code called in) and the very last (where it raised);
        the frames in between are only counted."""
        frames = traceback.extract_tb(exc.__traceback__)
        cells = [self._cell_name(f.filename) for f in frames]
        first = next((i for i, name in enumerate(cells) if name), 0)  # IPython's own frames come before
        out: list[tuple[str, traceback.FrameSummary | int]] = []
        skipped = 0
        for i in range(first, len(frames)):
            frame, ours = frames[i], cells[i] is not None or not _library(frames[i].filename)
            entering = i > first and (cells[i - 1] is not None or not _library(frames[i - 1].filename))
            if ours or entering or i == len(frames) - 1:
                if skipped:
                    out.append(("", skipped))
                    skipped = 0
                out.append((cells[i] or _short(frame.filename), frame))
            else:
                skipped += 1
        return out

    def _cell_name(self, filename: str) -> str | None:
        """``Cell In[5]`` for a frame of a notebook cell, None for any other file."""
        named = getattr(getattr(self._shell, "compile", None), "format_code_name", None)
        label = named(filename) if named else None
        if label:
            return " ".join(label)
        return "Cell" if filename.startswith("<ipython-input-") else None


def _frames(trimmed: list[tuple[str, traceback.FrameSummary | int]]) -> list[str]:
    lines = []
    for where, frame in trimmed:
        if isinstance(frame, int):
            lines.append(f"  … {frame} frame{'s' if frame > 1 else ''} inside libraries …")
            continue
        lines.append(f"  {where}, line {frame.lineno}, in {frame.name}")
        if frame.line:
            lines.append(f"    {frame.line.strip()}")
    return lines


_LIBRARIES = tuple({os.path.join(sysconfig.get_paths()[k], "") for k in ("stdlib", "platstdlib", "purelib", "platlib")})


def _library(filename: str) -> bool:
    """A frame of installed code (the standard library, site-packages), not the user's own."""
    return filename.startswith(_LIBRARIES) or "site-packages" in filename or filename.startswith("<frozen ")


def _short(filename: str) -> str:
    """A library file by its package path, not the machine's (``pandas/core/frame.py``)."""
    for root in sorted(_LIBRARIES, key=len, reverse=True):
        if filename.startswith(root):
            return f"File {filename[len(root) :].removeprefix('site-packages/')}"
    return f"File {filename}"
