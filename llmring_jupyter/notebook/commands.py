"""The ``%llm`` line commands: help, models, key, the conversation commands, and mcp."""

from __future__ import annotations

import getpass
import os
import shlex
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from IPython.display import display

from ..answer import options
from ..context.conversation import DEFAULT
from ..exceptions import UsageError
from ..providers import keys, lockfile, registry
from ..providers.keys import PROVIDER_KEYS
from ..records import transcript
from . import fix, mcp_commands

if TYPE_CHECKING:
    from .host import Host


def run(magics: Host, line: str) -> Any:
    """Run a command; ``%llm fix`` returns the coroutine of its answer, the others None."""
    command, _, rest = line.strip().partition(" ")
    handler = _COMMANDS.get(command.lower() or "help")
    if handler is None:
        raise UsageError(f"Unknown command %llm {command}; see %llm help. To ask a model, use the cell magic %%llm.")
    if handler is _system:  # free text: an apostrophe must not be a quoting error
        _system(magics, rest.strip())
        return None
    if handler is fix.fix:  # its options are a %%llm line's, read by options.parse
        return fix.fix(magics, rest)
    try:
        args = shlex.split(rest)
    except ValueError as exc:
        raise UsageError(f"Cannot read the %llm line ({exc}); check its quotes.") from None
    handler(magics, args)
    return None


def help_text() -> str:
    """``%llm help``: the line's options, then the commands, each from its own declaration."""
    commands = [f"{usage:<29}{what}" for usage, what in _HELP]
    stop = "Stop an answer with the ■ Stop button in its output, or by interrupting the kernel."
    return "\n".join([options.usage(), *commands, stop])


def _help(magics: Host, args: list[str]) -> None:
    print(help_text())


def _models(magics: Host, args: list[str]) -> None:
    path = lockfile.find(explicit=magics.lockfile)
    lines = []
    if path is None:
        lines.append("No llmring.lock here or in a parent folder; use provider:model names.")
    else:
        lock = lockfile.load(path)
        lines.append(f"Aliases in {path} (profile {lock.profile_name(magics.profile)}):")
        for alias, models in sorted(lock.aliases(magics.profile).items()):
            lines.append(f"  {alias:<16} {' → '.join(models)}")
    lines.append("Providers:")
    for provider in registry.providers():
        names = PROVIDER_KEYS.get(provider)
        if names is None:
            state = "no key needed"
        elif found := keys.find(provider):  # the variable the adapter reads, in its order
            state = f"key set ({found.variable})"
        else:
            state = f"no key: set {' or '.join(names)} or %llm key {provider}"
        lines.append(f"  {provider:<10} {state}")
    print("\n".join(lines))


def _key(magics: Host, args: list[str]) -> None:
    provider = registry.canonical(args[0].lower()) if len(args) == 1 else ""
    if provider not in PROVIDER_KEYS:
        raise UsageError(f"Usage: %llm key PROVIDER, with PROVIDER one of {', '.join(PROVIDER_KEYS)}.")
    variable = PROVIDER_KEYS[provider][0]  # read first, so it wins over an older key in the others
    # looked up at the call: the kernel puts its own getpass (a frontend prompt) in the module for each cell
    key = getpass.getpass(f"{variable} (kept for this session only, never saved): ").strip()
    if not key:
        raise UsageError(f"No key entered; {variable} is unchanged.")
    os.environ[variable] = key  # this kernel process only: gone when the kernel stops
    print(f"{variable} set for this session.")


def _chats(magics: Host, args: list[str]) -> None:
    chats = list(magics.session.conversations)
    if not chats:
        print("No conversations yet: the first %%llm cell starts the default one.")
        return
    for chat in chats:
        system = f", system: {chat.system[:40]!r}" if chat.system else ""
        print(f"{chat.name:<16} {len(chat.turns)} turns, ~{chat.tokens():,} tokens{system}")


def _existing(magics: Host, args: list[str]) -> str:
    name = args[0] if args else DEFAULT
    if name not in magics.session.conversations:
        known = ", ".join(c.name for c in magics.session.conversations) or "none yet"
        raise UsageError(f"No conversation {name!r} (conversations: {known}).")
    return name


def _history(magics: Host, args: list[str]) -> None:
    chat = magics.session.conversations.get(_existing(magics, args[:1]))
    display(transcript.history_bundle(chat), raw=True)


def _reset(magics: Host, args: list[str]) -> None:
    name = args[0] if args else DEFAULT
    forgot = magics.session.conversations.reset(name)
    print(f"Forgot the conversation {name!r}." if forgot else f"No conversation {name!r} to forget.")


def _system(magics: Host, rest: str) -> None:
    """``%llm system [NAME] TEXT``: NAME is taken as a chat's name only if that chat exists."""
    chats = magics.session.conversations
    first, _, after = rest.partition(" ")
    name, text = (first, after.strip()) if first in chats or first == DEFAULT else (DEFAULT, rest)
    chat = chats.get(name)
    if not text:
        print(f"System prompt of {name!r}: {chat.system!r}")
        return
    chat.system = text
    print(f"System prompt of {name!r} set.")


def _usage(magics: Host, args: list[str]) -> None:
    display(magics.session.ledger.bundle(), raw=True)


def _export(magics: Host, args: list[str]) -> None:
    if len(args) not in (1, 2):
        raise UsageError("Usage: %llm export [NAME] FILE.json|FILE.md")
    name = _existing(magics, args[:-1])
    path = Path(args[-1]).expanduser()
    transcript.save(magics.session.conversations.get(name), path)
    print(f"Saved the conversation {name!r} to {path}.")


def _load(magics: Host, args: list[str]) -> None:
    if len(args) not in (1, 2):
        raise UsageError("Usage: %llm load FILE.json [NAME]")
    chat = transcript.load(Path(args[0]).expanduser(), args[1] if len(args) > 1 else None)
    magics.session.conversations.put(chat)
    print(f"Loaded the conversation {chat.name!r}: {len(chat.turns)} turns.")


def _keep(magics: Host, args: list[str]) -> None:
    comparisons = magics.comparisons
    if len(args) != 1 or not args[0].isdigit():
        raise UsageError("Usage: %llm keep N, with N the column of the side-by-side answer to keep (1 is the first).")
    if not comparisons:
        raise UsageError("No side-by-side answers yet: name two or more models on a %%llm line first.")
    comparison = list(comparisons.values())[-1]
    if comparison.question.chat is None:
        raise UsageError("That side-by-side cell ran with --no-history: no answer joins a conversation.")
    comparison.keep(int(args[0]) - 1)
    model, chat = comparison.models[comparison.kept], comparison.question.chat.name
    print(f"Kept answer {args[0]} ({model}) in the conversation {chat!r}.")


#: What ``%llm help`` lists, in its order.
def _batches(magics: Host, args: list[str]) -> None:
    from ..answer import batch
    from ..render.batch_table import batch_bundle

    made = batch.jobs(magics.session.settings.cache_path)
    display(batch_bundle(made, empty="This notebook has made no batch (%%llm … --map NAME --batch)."), raw=True)


def _batch(magics: Host, args: list[str]) -> None:
    if len(args) != 2 or args[0] != "cancel":
        raise UsageError("Usage: %llm batch cancel ID (%llm batches lists the ids)")
    from ..answer import batch
    from ..render.batch_table import job_line

    print(job_line(batch.cancel(args[1], magics.session.settings.cache_path)))


_HELP = (
    ("%llm help", "this text"),
    ("%llm models", "the lockfile's aliases and which providers have keys"),
    ("%llm key PROVIDER", "enter an API key for this session (hidden prompt)"),
    ("%llm chats", "the conversations, with their sizes"),
    ("%llm history [NAME]", "a conversation's transcript: who said what, models, tokens"),
    ("%llm reset [NAME]", "forget a conversation"),
    ("%llm system [NAME] TEXT", "set a conversation's system prompt"),
    ("%llm usage", "this kernel's answers, tokens, cost and time, by model"),
    ("%llm export [NAME] FILE", "save a conversation to FILE.json (to load again) or FILE.md"),
    ("%llm load FILE [NAME]", "load a conversation saved as JSON"),
    ("%llm fix [MODEL] [options]", "explain the latest error; its corrected cell is put below"),
    ("%llm keep N", "the last side-by-side cell's answer N joins the conversation instead"),
    ("%llm mcp [NAME]", "the MCP servers (.mcp.json, %config LLMMagics.mcp_servers), their state and tools"),
    ("%llm mcp add NAME -- CMD …", "add an MCP server for this session: a command (stdio) or a URL (HTTP)"),
    ("%llm mcp stop NAME", "stop an MCP server (it starts again when a cell uses it)"),
    ("%llm batches", "this notebook's --batch jobs: provider, id, status, counts, age, cost"),
    ("%llm batch cancel ID", "cancel one of them; its finished rows are kept"),
)

_COMMANDS: dict[str, Callable[..., Any]] = {
    "help": _help,
    "-h": _help,
    "--help": _help,
    "models": _models,
    "aliases": _models,
    "key": _key,
    "chats": _chats,
    "history": _history,
    "reset": _reset,
    "system": _system,
    "usage": _usage,
    "export": _export,
    "load": _load,
    "fix": fix.fix,
    "keep": _keep,
    "mcp": mcp_commands.run,
    "batches": _batches,
    "batch": _batch,
}
