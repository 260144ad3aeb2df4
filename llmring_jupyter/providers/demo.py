"""The offline ``demo`` model: a real adapter that needs no key and no network.

It streams a deterministic, readable markdown answer derived from the prompt
at a realistic pace, honours ``max_tokens`` (then ``finish_reason`` is
``length``) and counts usage. The quickstart, Binder and most tests run on it.

Models:

- ``demo`` (or ``demo:chat``): an answer about the prompt, with a list, a
  table, math and a code block, that mentions how many earlier turns it was sent.
- ``demo:echo``: streams the last user message back verbatim, so what reached
  the provider can be seen exactly.

Asked for JSON (``Request.response_format``), ``demo`` answers a value that
fits the schema (see :mod:`.demo_data`); ``demo:echo`` still echoes.

Both take images and PDF documents and say what they got ("a 3×2 PNG"), so
prompts with figures and files work without a key.

Given tools, ``demo`` calls the first one and then answers with its result
(see :mod:`.demo_tools`).

- ``demo:thinker``: ``demo`` as a reasoning model, which thinks before each
  answer; ``demo`` thinks only when a ``--think`` level asks it to (see
  :mod:`.demo_think`), so its answers stay as they were.

Request options understood: ``delay`` (seconds between tokens; default from
``LLMRING_DEMO_DELAY``, else 0.02) and ``tokens`` (stream exactly this many
tokens, repeating the answer; for benchmarks), and ``think_tokens`` (think exactly this
many tokens, when it thinks at all).
"""

from __future__ import annotations

import asyncio
import os
import re
import textwrap
from collections.abc import AsyncGenerator

from . import demo_data, demo_think, demo_tools
from .errors import UnknownModelError
from .images import DEFAULT_LIMITS
from .inputs import Inputs
from .tokens import estimate_prompt
from .types import Attachment, Message, Request, StreamChunk, StreamFinish, ThinkLevel, ToolCall, Usage

_TOKEN = re.compile(r"\s*\S+|\s+$")
_WORD = re.compile(r"[A-Za-z][A-Za-z'\-]{3,}")
_PYTHON = re.compile(r"```python\n(.*?)\n```", re.DOTALL)
DEFAULT_DELAY = 0.02


def tokenize(text: str) -> list[str]:
    """Split text into word tokens (each with its leading whitespace); they join back exactly."""
    return _TOKEN.findall(text)


class DemoProvider:
    name = "demo"
    models = ("chat", "echo", "thinker")
    inputs = Inputs(images=DEFAULT_LIMITS, documents=True)

    async def stream(self, model: str, request: Request) -> AsyncGenerator[StreamChunk, None]:
        model = model or "chat"
        if model not in self.models:
            raise UnknownModelError(
                f"The demo provider has no model {model!r}: use demo, demo:chat, demo:echo or demo:thinker."
            )
        pieces: list[StreamChunk] = []
        calls: tuple[ToolCall, ...] = ()
        think: ThinkLevel = demo_think.level(model, request) if model != "echo" else "off"
        if model == "echo":
            answer = _echo(request.messages)
        elif demo_tools.wants_tool(request):
            answer, pieces, call = demo_tools.call_chunks(request)
            calls = (call,)
        elif request.response_format is not None:  # JSON that fits the schema, from the prompt's (and tools') words
            answer = demo_data.answer(request.response_format, _since_last_user(request.messages))
        elif request.messages and request.messages[-1].role == "tool":
            answer = demo_tools.answer(request.messages)
        else:
            answer = _answer(request.messages)
        tokens = tokenize(answer)
        wanted = request.options.get("tokens")
        if wanted is not None:
            tokens = [tokens[i % len(tokens)] for i in range(int(wanted))]
        limit = request.max_tokens
        finish: StreamFinish = "tool_calls" if calls else "stop"
        if limit is not None and len(tokens) > limit:
            tokens, finish, pieces, calls = tokens[:limit], "length", [], ()
        thought = demo_think.thinking(request, think, calls[0].name if calls else None)
        thinking = tokenize(thought)
        if thinking and (wanted := request.options.get("think_tokens")) is not None:  # for benchmarks
            thinking = [thinking[i % len(thinking)] for i in range(int(wanted))]
            thought = "".join(thinking)
        delay = float(request.options.get("delay", os.environ.get("LLMRING_DEMO_DELAY", DEFAULT_DELAY)))
        for chunk in demo_think.chunks(thinking) + [StreamChunk(delta=t) for t in tokens] + pieces:
            if delay > 0:
                await asyncio.sleep(delay)
            else:
                await asyncio.sleep(0)  # stay cancellable and let the loop breathe
            yield chunk
        spent = len(thinking) if thought else None  # of the completion tokens: none said when it did not think
        usage = Usage.of(
            estimate_prompt(request.messages), len(tokens) + len(pieces) + (spent or 0), reasoning_tokens=spent
        )
        reasoning = (demo_think.block(thought),) if thought else None
        yield StreamChunk(model=model, finish_reason=finish, usage=usage, tool_calls=calls or None, reasoning=reasoning)


def _last_user(messages: tuple[Message, ...]) -> str:
    return next((m.content for m in reversed(messages) if m.role == "user"), "")


def _last_parts(messages: tuple[Message, ...]) -> tuple[Attachment, ...]:
    return next((m.attachments for m in reversed(messages) if m.role == "user"), ())


def _seen(part: Attachment) -> str:
    return f"{part.name} ({part.describe()})" if part.name else part.describe()


def _since_last_user(messages: tuple[Message, ...]) -> str:
    """The last user message and the tool results after it: what a JSON answer is made of."""
    start = max((i for i, m in enumerate(messages) if m.role == "user"), default=0)
    return "\n".join(m.content for m in messages[start:] if m.role in ("user", "tool"))


def _echo(messages: tuple[Message, ...]) -> str:
    parts = "".join(f"\n[{_seen(p)}]" for p in _last_parts(messages))
    return _last_user(messages) + parts


def _answer(messages: tuple[Message, ...]) -> str:
    prompt = _last_user(messages).strip()
    first = prompt.splitlines()[0] if prompt else ""
    quoted = first if len(first) <= 80 else first[:77] + "..."
    earlier = sum(1 for m in messages[:-1] if m.role in ("user", "assistant"))
    system = next((m.content for m in messages if m.role == "system"), None)
    words = sorted(set(_WORD.findall(prompt)), key=lambda w: (-len(w), w.lower()))[:4]
    memory = (
        f"This conversation had {earlier} earlier message{'s' if earlier != 1 else ''} before this one."
        if earlier
        else "This is the first message of our conversation."
    )
    bullets = "\n".join(f"- **{w}** ({len(w)} letters)" for w in words) or "- (no words to list)"
    rows = "\n".join(f"| {w} | {len(w)} |" for w in words) or "| (none) | 0 |"
    persona = f"\n\nI was told to behave as: _{system.strip()[:80]}_" if system else ""
    parts = _last_parts(messages)
    if parts:
        kinds = "image" if all(p.kind == "image" for p in parts) else "file"
        seen = ", ".join(_seen(p) for p in parts)
        persona += f"\n\nYou sent me {len(parts)} {kinds}{'s' if len(parts) > 1 else ''}: {seen}."
    sent = _PYTHON.search(prompt)
    heading, code = (
        ("Your code, handed back (the demo model cannot change it):", sent.group(1))
        if sent
        else ("A little code, to show highlighting:", f'prompt = {first[:60]!r}\nprint(len(prompt.split()), "words")')
    )
    intro = (  # one line: a line break in markdown is kept as one
        "I am the offline **demo** model of llmring_jupyter: I need no key and no network, "
        "and I stream this answer word by word so you can watch it arrive."
    )
    return textwrap.dedent("""\
        ## Demo answer

        You asked: “{quoted}”

        {intro} {memory}{persona}

        Words that stood out in your prompt:

        {bullets}

        | word | letters |
        | --- | --- |
        {rows}

        Math is typeset as it streams: a prompt of $n$ words costs about $\\frac{{4n}}{{3}}$ tokens, and

        $$\\sum_{{k=1}}^{{n}} k = \\frac{{n(n+1)}}{{2}}$$

        {heading}

        ```python
        {code}
        ```

        Switch to a real model with `%%llm openai:gpt-4o-mini` or an alias from `llmring.lock`.
        """).format(
        quoted=quoted,
        intro=intro,
        memory=memory,
        persona=persona,
        bullets=bullets,
        rows=rows,
        heading=heading,
        code=code,
    )
