"""The ``demo`` model's thinking: a short deterministic thinking phase before it answers.

So the thinking of reasoning models (its live section, its collapsed line, its
tokens, its round trip through a tool loop) can be seen and tested without a key.
``demo`` thinks when a ``--think`` level asks it to; ``demo:thinker`` is a reasoning
model that thinks by default, as OpenAI's o-series and Gemini 2.5 do. ``off`` means
no thinking. Higher levels think longer.

Each block carries a signature, as Anthropic's do: after a tool call the demo says
whether its earlier thinking came back with the results, exactly as it was sent.
"""

from __future__ import annotations

import hashlib
import re

from .types import Message, Reasoning, Request, StreamChunk, ThinkLevel

#: Sentences of thinking per level: ``low`` a glance, ``max`` a long deliberation.
SENTENCES: dict[ThinkLevel, int] = {"off": 0, "low": 2, "medium": 4, "high": 8, "max": 16}
_WORD = re.compile(r"[A-Za-z][A-Za-z'\-]{3,}")


def level(model: str, request: Request) -> ThinkLevel:
    """How hard this request makes the demo think: its ``--think``, else its model's default."""
    if request.think is not None:
        return request.think
    return "medium" if model == "thinker" else "off"


def signature(text: str) -> str:
    """The block's signature: proves the thinking came back unchanged, as providers check."""
    return "demo-" + hashlib.sha256(text.encode()).hexdigest()[:24]


def thinking(request: Request, think: ThinkLevel, calling: str | None) -> str:
    """The thinking text before this step's answer (``calling``: the tool it is about to call)."""
    n = SENTENCES[think]
    if not n:
        return ""
    messages = request.messages
    prompt = next((m.content for m in reversed(messages) if m.role == "user"), "").strip()
    first = prompt.splitlines()[0] if prompt else ""
    quoted = first if len(first) <= 60 else first[:57] + "..."
    words = sorted(set(_WORD.findall(prompt)), key=lambda w: (-len(w), w.lower()))[:3]
    listed = ", ".join(f"*{w}*" for w in words) or "none in particular"
    if calling is not None:
        opening = [
            f"The question is “{quoted}”.",
            f"A tool can answer this better than I can: I will call `{calling}`.",
        ]
    elif messages and messages[-1].role == "tool":
        opening = [_returned(messages), "The results are in; I will answer from them and quote them."]
    else:
        opening = [f"The question is “{quoted}”.", f"The words that matter most seem to be {listed}."]
    pool = [
        "A short list and a small table would make the answer easy to scan.",
        "Math and a code block would show what the notebook can render.",
        "I need no key and no network: everything comes from the prompt itself.",
        "I should say how many earlier messages of the conversation I was sent.",
        "Let me check each word's length before I list it.",
        "Nothing here needs more care than that; the answer can be short.",
    ]
    sentences = [*opening, *pool]
    chosen = [sentences[i % len(sentences)] for i in range(n)]
    for i in range(len(sentences), n):  # past the pool: a second pass, said as one
        chosen[i] = "Checking again: " + chosen[i][0].lower() + chosen[i][1:]
    # paragraphs of three sentences, as models think: a paragraph is the live view's unit of rendering
    return "\n\n".join(" ".join(chosen[i : i + 3]) for i in range(0, len(chosen), 3))


def chunks(tokens: list[str]) -> list[StreamChunk]:
    """The thinking as pieces of block 0, one token each, as a provider streams it."""
    return [StreamChunk(reasoning=(Reasoning(t),)) for t in tokens]


def block(text: str) -> Reasoning:
    """The whole block of the final chunk, signed."""
    return Reasoning(text, signature=signature(text))


def _returned(messages: tuple[Message, ...]) -> str:
    """Whether the thinking before the tool call came back with its results, intact."""
    asked = next((m for m in reversed(messages) if m.role == "assistant"), None)
    blocks = asked.reasoning if asked is not None else ()
    if not blocks:
        return "My thinking before the call did not come back with its results."
    if all(b.signature == signature(b.text) for b in blocks):
        return "My thinking before the call came back intact with its results."
    return "My thinking before the call came back altered."
