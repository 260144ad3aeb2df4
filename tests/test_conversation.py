"""Which earlier turns a question sends: re-runs, limits, incomplete answers."""

from __future__ import annotations

from llmring_jupyter.context.conversation import Conversation, Conversations, Limits
from llmring_jupyter.providers.types import FinishReason, Message
from llmring_jupyter.result import Result, Timings


def _result(text: str, finish: FinishReason = "stop") -> Result:
    return Result(text, "demo", "demo:chat", finish, None, Timings(0, 0, 0), ())


def _chat(*turns: tuple[str, str, str]) -> Conversation:
    chat = Conversation("default")
    for key, prompt, answer in turns:
        chat.record(key, prompt, _result(answer))
    return chat


def _pairs(messages: list[Message]) -> list[tuple[str, str]]:
    return [(m.role, m.content) for m in messages]


def test_a_new_cell_sees_every_turn_and_a_rerun_only_those_before_it() -> None:
    chat = _chat(("a", "Q1", "A1"), ("b", "Q2", "A2"), ("c", "Q3", "A3"))
    assert len(chat.context("new", Limits())[0]) == 6
    assert _pairs(chat.context("b", Limits())[0]) == [("user", "Q1"), ("assistant", "A1")]
    chat.record("b", "Q2'", _result("A2'"))
    assert [t.prompt for t in chat.turns] == ["Q1", "Q2'", "Q3"]


def test_limits_keep_the_newest_turns_and_count_what_they_drop() -> None:
    chat = _chat(*((str(n), f"Q{n}", "x" * 400) for n in range(10)))  # ~100 tokens an answer
    messages, dropped = chat.context("new", Limits(turns=3))
    assert [m.content for m in messages if m.role == "user"] == ["Q7", "Q8", "Q9"] and dropped == 7
    messages, dropped = chat.context("new", Limits(tokens=250))
    assert [m.content for m in messages if m.role == "user"] == ["Q8", "Q9"] and dropped == 8


def test_incomplete_answers_are_resent_only_when_allowed_and_empty_ones_never() -> None:
    chat = _chat(("a", "Q1", "A1"))
    chat.record("b", "Q2", _result("partial", "cancelled"))
    chat.record("c", "Q3", _result("", "error"))
    assert _pairs(chat.context("new", Limits())[0])[-1] == ("assistant", "partial")
    assert len(chat.context("new", Limits())[0]) == 4, "an empty answer would leave two user messages in a row"
    assert _pairs(chat.context("new", Limits(resend_incomplete=False))[0]) == [("user", "Q1"), ("assistant", "A1")]


def test_new_keeps_the_system_prompt_and_reset_forgets_all() -> None:
    chats = Conversations()
    chats.get("review").system = "Be strict"
    chats.get("review").record("a", "Q", _result("A"))
    fresh = chats.new("review")
    assert fresh.system == "Be strict" and fresh.turns == []
    assert chats.reset("review") and "review" not in chats and not chats.reset("review")


def test_the_token_budget_keeps_a_turn_that_fits_exactly_and_drops_one_token_more() -> None:
    chat = _chat(("a", "Q", "x" * 396))  # 1 + 99 = 100 estimated tokens
    assert len(chat.context("new", Limits(tokens=100))[0]) == 2
    assert chat.context("new", Limits(tokens=99)) == ([], 1)


def test_image_turns_are_sent_again_and_count_against_the_token_limit() -> None:
    from llmring_jupyter.providers.types import Attachment

    image = Attachment("image", "image/png", b"png", "fig", 1500, 1000)  # ~2,000 tokens
    chat = Conversation("default")
    chat.record("a", "What is [image 1: fig]?", _result("A bar chart."), (image,))
    chat.record("b", "And the axes?", _result("Years and sales."))
    messages, dropped = chat.context("c", Limits())
    assert messages[0].attachments == (image,) and dropped == 0
    assert chat.tokens() > 1_500
    messages, dropped = chat.context("c", Limits(tokens=1_000))
    assert [m.content for m in messages] == ["And the axes?", "Years and sales."] and dropped == 1
