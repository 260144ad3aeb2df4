"""``%%llm`` and ``%llm``: parse the line, dispatch, nothing else."""

from __future__ import annotations

import os
from collections.abc import Coroutine
from getpass import getpass
from typing import Any

from IPython.core.magic import Magics, line_cell_magic, magics_class, no_var_expand
from traitlets import Any as AnyTrait
from traitlets import Float, Unicode

from . import options, render, stream
from ._blocking import run_blocking
from .display import TerminalOutput, WidgetOutput
from .providers import Message, Request, chat_stream, lockfile, pricing, registry, resolve
from .providers.errors import PROVIDER_KEYS, UsageError


@magics_class
class LLMMagics(Magics):
    """Talk to an LLM from a cell. Configure with ``%config LLMMagics.<name> = ...``."""

    default_model = Unicode(
        "demo", help="Model used when a %%llm line names none: an alias or provider:model."
    ).tag(config=True)
    idle_timeout = Float(
        60.0, help="Seconds a stream may stay silent before it fails with a timeout error."
    ).tag(config=True)
    update_rate = Float(
        30.0, help="How many times a second new text is sent to the browser (the first at once)."
    ).tag(config=True)
    lockfile = Unicode(
        None, allow_none=True,
        help="Path of llmring.lock (default: LLMRING_LOCKFILE_PATH, else the nearest llmring.lock).",
    ).tag(config=True)
    profile = Unicode(
        None, allow_none=True, help="Lockfile profile (default: LLMRING_PROFILE, else the file's default)."
    ).tag(config=True)

    backend = AnyTrait(
        None, allow_none=True,
        help="An object with a compatible chat_stream(request), e.g. llmring's LLMRing, used "
             "instead of the built-in providers.",
    )

    def __init__(self, shell: Any, *, in_kernel: bool) -> None:
        super().__init__(shell)
        self._in_kernel = in_kernel

    @no_var_expand
    @line_cell_magic
    def llm(self, line: str, cell: str | None = None) -> Any:
        if cell is None:
            return self._command(line)
        if self._in_kernel:  # the input transformer awaits this coroutine
            return self._answer(line, cell)
        run_blocking(lambda: self._answer(line, cell))
        return None

    # -- %%llm ----------------------------------------------------------------
    def _answer(self, line: str, cell: str) -> Coroutine[Any, Any, None]:
        async def answer() -> None:
            opts = options.parse(line)
            if opts is None:
                print(options.USAGE)
                return
            request = self._request(opts, cell)
            if self.backend is None:  # a bad name fails here, before any output
                resolve(request.model, lockfile_path=self.lockfile, profile=self.profile)
            output = WidgetOutput(opts.format) if self._in_kernel else TerminalOutput()
            chunks = chat_stream(request, lockfile_path=self.lockfile, profile=self.profile,
                                 idle_timeout=self.idle_timeout, backend=self.backend)
            result = await stream.run(request, chunks, output, interval=1 / self.update_rate,
                                      price=pricing.price)
            self.shell.user_ns["_llm"] = result
            if opts.format == "code" and result.text:
                self.shell.set_next_input(render.code_of(result.text), replace=False)
            if result.interrupted:
                raise stream.Interrupted(
                    f"Interrupted after {len(result.text):,} characters; the partial answer is kept in _llm."
                )
            if result.exception is not None:
                raise result.exception

        return answer()

    def _request(self, opts: options.CellOptions, cell: str) -> Request:
        prompt = cell.strip()
        if not prompt:
            raise UsageError("The prompt is empty: write it in the cell, below the %%llm line.")
        messages = [Message("system", opts.system)] if opts.system else []
        messages.append(Message("user", prompt))
        return Request(opts.model or self.default_model, tuple(messages),
                       temperature=opts.temperature, max_tokens=opts.max_tokens,
                       options=dict(opts.provider_options))

    # -- %llm -----------------------------------------------------------------
    def _command(self, line: str) -> None:
        words = line.split()
        command, args = (words[0].lower(), words[1:]) if words else ("help", [])
        if command in ("help", "-h", "--help"):
            print(options.USAGE)
        elif command in ("models", "aliases"):
            print(self._models())
        elif command == "key":
            self._key(args)
        else:
            raise UsageError(f"Unknown command %llm {command}; see %llm help. "
                             "To ask a model, use the cell magic %%llm.")

    def _models(self) -> str:
        path = lockfile.find(explicit=self.lockfile)
        lines = []
        if path is None:
            lines.append("No llmring.lock here or in a parent folder; use provider:model names.")
        else:
            lock = lockfile.load(path)
            name = lock.profile_name(self.profile)
            lines.append(f"Aliases in {path} (profile {name}):")
            for alias, models in sorted(lock.aliases(self.profile).items()):
                lines.append(f"  {alias:<16} {' → '.join(models)}")
        lines.append("Providers:")
        for provider in registry.providers():
            names = PROVIDER_KEYS.get(provider)
            if names is None:
                state = "no key needed"
            else:
                found = next((n for n in names if os.environ.get(n)), None)
                state = f"key set ({found})" if found else f"no key: set {' or '.join(names)} or %llm key {provider}"
            lines.append(f"  {provider:<10} {state}")
        return "\n".join(lines)

    def _key(self, args: list[str]) -> None:
        provider = registry.canonical(args[0].lower()) if len(args) == 1 else ""
        if provider not in PROVIDER_KEYS:
            raise UsageError(f"Usage: %llm key PROVIDER, with PROVIDER one of {', '.join(PROVIDER_KEYS)}.")
        variable = PROVIDER_KEYS[provider][0]
        key = getpass(f"{variable} (kept for this session only, never saved): ").strip()
        if not key:
            raise UsageError(f"No key entered; {variable} is unchanged.")
        os.environ[variable] = key  # this kernel process only: gone when the kernel stops
        print(f"{variable} set for this session.")
