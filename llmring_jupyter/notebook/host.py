"""What the ``%llm`` commands and ``%llm fix`` use of the magics.

A protocol, so that those modules need not import the magics, which import them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from ..answer.options import Options
    from ..answer.session import Session
    from ..context.cell_errors import ErrorLog
    from ..context.interpolate import Prompt
    from ..result import Result
    from ..view.columns import Comparison


class Host(Protocol):
    """The magics as the commands see them: LLMMagics is one."""

    shell: Any
    errors: ErrorLog
    comparisons: dict[str, Comparison]  # side-by-side cells by turn key, the latest last

    @property
    def session(self) -> Session: ...

    @property
    def lockfile(self) -> str | None: ...

    @property
    def profile(self) -> str | None: ...

    async def ask(self, prompt: Prompt, opts: Options) -> Result | None: ...
