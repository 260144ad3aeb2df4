"""Conversations that follow the notebook, not the order cells happened to run in.

A conversation is an ordered list of turns, each keyed by the cell that asked
it. Re-running a cell replaces its turn in place: the request sees only the
turns before it, and later cells see the new answer. A new cell appends.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace

from ..providers.images import part_tokens
from ..providers.tokens import estimate_tokens
from ..providers.types import Attachment, Message
from ..result import Result

DEFAULT = "default"


@dataclass(frozen=True)
class Turn:
    key: str  # the frontend's cell id, or the cell's text where none is sent
    prompt: str  # exactly what was sent as the user message
    result: Result
    attachments: tuple[Attachment, ...] = ()  # its images and documents, sent again with later turns

    def cost(self) -> int:
        """Estimated tokens to send this turn again: its messages, tool calls, results and thinking included."""
        parts = sum(part_tokens(a) for a in self.attachments)
        texts = sum(
            estimate_tokens(m.content)
            + sum(estimate_tokens(c.arguments) for c in m.tool_calls)
            + sum(estimate_tokens(r.text) for r in m.reasoning)
            for m in self.messages()
        )
        return texts + parts

    @property
    def answer(self) -> str:
        return self.result.text

    @property
    def complete(self) -> bool:
        return self.result.ok

    def messages(self, provider: str | None = None) -> list[Message]:
        """The turn as the model reads it next time: the prompt (with its images and documents),
        then the whole exchange (tool calls and their results included) or, without tools, the answer.

        Thinking goes back only to the provider that thought it (``provider``: the one
        asked next; None: any): its signatures are that provider's, and another refuses them.
        """
        after = list(self.result.exchange) or [Message("assistant", self.answer)]
        served = (self.result.model or "").partition(":")[0]
        if provider is not None and served != provider:
            after = [replace(m, reasoning=()) if m.reasoning else m for m in after]
        return [Message("user", self.prompt, attachments=self.attachments), *after]


@dataclass(frozen=True)
class Limits:
    """What earlier turns may be sent: the newest ones, within both bounds."""

    turns: int = 50
    tokens: int = 12_000
    resend_incomplete: bool = True  # stopped, truncated or failed answers as context


@dataclass
class Conversation:
    name: str
    system: str | None = None
    turns: list[Turn] = field(default_factory=list)

    def context(self, key: str, limits: Limits, provider: str | None = None) -> tuple[list[Message], int]:
        """Messages of the turns before ``key``'s turn (all, for a new key), newest kept, as
        ``provider`` will read them (see :meth:`Turn.messages`).

        Returns the messages and how many eligible turns the limits left out.
        """
        index = self._index(key)
        earlier = self.turns if index is None else self.turns[:index]
        usable = [t for t in earlier if (t.answer or t.result.exchange) and (t.complete or limits.resend_incomplete)]
        kept: list[Turn] = []
        budget = limits.tokens
        for turn in reversed(usable):
            cost = turn.cost()
            if len(kept) >= limits.turns or cost > budget:
                break
            kept.append(turn)
            budget -= cost
        messages = []
        for turn in reversed(kept):
            messages += turn.messages(provider)
        return messages, len(usable) - len(kept)

    def record(self, key: str, prompt: str, result: Result, attachments: tuple[Attachment, ...] = ()) -> None:
        """Keep a turn; a re-run cell replaces its own turn where it stands."""
        turn = Turn(key, prompt, result, attachments)
        index = self._index(key)
        if index is None:
            self.turns.append(turn)
        else:
            self.turns[index] = turn

    def tokens(self) -> int:
        """Estimated tokens the conversation would cost to resend whole."""
        return sum(t.cost() for t in self.turns)

    def _index(self, key: str) -> int | None:
        return next((i for i, t in enumerate(self.turns) if t.key == key), None)


class Conversations:
    """The notebook's conversations by name; ``default`` is where cells go unless told."""

    def __init__(self) -> None:
        self._chats: dict[str, Conversation] = {}

    def get(self, name: str = DEFAULT) -> Conversation:
        if name not in self._chats:
            self._chats[name] = Conversation(name)
        return self._chats[name]

    def new(self, name: str = DEFAULT) -> Conversation:
        """Start ``name`` afresh, keeping its system prompt."""
        old = self._chats.get(name)
        self._chats[name] = Conversation(name, old.system if old else None)
        return self._chats[name]

    def reset(self, name: str = DEFAULT) -> bool:
        return self._chats.pop(name, None) is not None

    def put(self, conversation: Conversation) -> None:
        self._chats[conversation.name] = conversation

    def __contains__(self, name: object) -> bool:
        return name in self._chats

    def __iter__(self) -> Iterator[Conversation]:
        return iter(self._chats.values())
