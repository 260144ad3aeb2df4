"""``%llm fix [MODEL] [options]``: explain the latest error and offer the corrected cell.

The model gets the exception, the trimmed traceback and the failing cell's
source (the text ``{{Err}}`` gives), and streams its answer like any other
question. The corrected code is put in a new cell below (``set_next_input``),
never run; below the answer the same code is shown in the ``--format code`` box,
whose Copy button serves frontends that cannot insert cells.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from IPython.display import display

from .. import render
from ..answer import options
from ..context.interpolate import Prompt

if TYPE_CHECKING:
    from .host import Host

INSTRUCTION = (
    "A cell of my Jupyter notebook raised the error below. Explain its cause in a few sentences, "
    "then give the corrected code of the whole cell in one Python code block, changing only what the fix needs."
)
CAPTION = "Corrected code, put in a new cell below (not run). Copy it from here where the frontend cannot insert."


def prompt(magics: Host) -> Prompt:
    return Prompt(f"{INSTRUCTION}\n\n{magics.errors.latest()._llm_prompt_()}")


async def fix(magics: Host, line: str) -> None:
    opts = options.parse(line)
    if opts is None:
        print("%llm fix [MODEL] [options]: the options are those of %%llm; see %llm help.")
        return
    result = await magics.ask(prompt(magics), opts)
    if result is None or opts.format == "code" or "```" not in result.text:
        return  # a dry run; --format code inserted it already; no code to offer
    code = render.code_of(result.text)
    magics.shell.set_next_input(code, replace=False)
    box = render.answer_html(code, "code")
    caption = f'<div style="{render.FOOTER_STYLE}">{CAPTION}</div>'
    display({"text/html": f"{box}{caption}", "text/plain": code}, raw=True)
