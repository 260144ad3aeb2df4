"""One ``--think`` level (off|low|medium|high|max), mapped to each provider's own parameter.

The one source of which models think, which levels each takes and what each level is on
the wire. Each provider's knob is different (OpenAI: a reasoning effort; Anthropic: a token
budget, or adaptive thinking with an effort; Gemini 2.5: a budget, Gemini 3: a level; Ollama:
on/off, or a level for gpt-oss), so the levels are ours and the adapters ask here. A level a model
cannot take is refused before anything is sent, naming the levels it takes.

Unset (``None``) sends no level or budget: the model's own default. The thinking is still
asked to be *shown* where the provider hides it unless asked (``show_thinking``).

Budgets count in the answer's output tokens: where no ``max_tokens`` is set, room for the
budget is added to the default; an explicit ``max_tokens`` the budget does not fit under is
refused, since the answer would be cut before it began.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .errors import ConfigurationError, UnsupportedThinkingError
from .types import THINK_LEVELS, ThinkLevel

#: Thinking tokens each level allows, where a provider counts thinking in a budget.
BUDGETS: dict[ThinkLevel, int] = {"low": 2048, "medium": 8192, "high": 16384, "max": 32000}


@dataclass(frozen=True)
class Levels:
    """The levels one model takes, and why the others are refused."""

    takes: tuple[ThinkLevel, ...]
    why: str = ""  # what refuses the others: "it always thinks", "it does not think"

    def check(self, ref: str, level: ThinkLevel) -> None:
        if level in self.takes:
            return
        takes = f"takes --think {'|'.join(self.takes)}" if self.takes else "takes no --think level"
        because = f" ({self.why})" if self.why else ""
        raise UnsupportedThinkingError(f"{ref} cannot think at level {level!r}: it {takes}{because}.")


_ALL = Levels(THINK_LEVELS)
_NONE = Levels((), "it does not think")
_ON = Levels(("low", "medium", "high", "max"), "it always thinks")


def _fits(ref: str, level: ThinkLevel, budget: int, max_tokens: int | None) -> None:
    if max_tokens is not None and budget >= max_tokens:
        raise UnsupportedThinkingError(
            f"{ref} --think {level} thinks up to {budget} tokens, which --max-tokens {max_tokens} leaves no room "
            f"for: raise --max-tokens above {budget}, or lower --think."
        )


# -- OpenAI -------------------------------------------------------------------------------
# Both of OpenAI's APIs (Responses and Chat Completions) refuse a ``reasoning.effort`` /
# ``reasoning_effort`` the model does not know with a 400, after the cell has waited for it;
# the models' own lists are known, so a level a model cannot take is refused here. A model
# not named here (a newer one, or a compatible server's) is sent the level as asked.
# ``off`` is ``none`` where the model has it (GPT-5.1 on), else ``minimal`` (GPT-5); ``max``
# is ``xhigh`` where the model has it, else ``high``.
_LOW_HIGH = ("low", "medium", "high")
_LOW_XHIGH = (*_LOW_HIGH, "xhigh")
#: (model name pattern, the efforts it takes): the first that matches the start of the name wins
_OPENAI_EFFORTS: tuple[tuple[re.Pattern[str], tuple[str, ...]], ...] = tuple(
    (re.compile(pattern), efforts)
    for pattern, efforts in (
        (r"gpt-5(\.\d+)?-chat", ()),  # the ChatGPT models: no reasoning control
        (r"gpt-5-pro", ("high",)),
        (r"gpt-5\.\d+-pro", ("medium", "high", "xhigh")),
        (r"gpt-5(\.1)?-codex-max", _LOW_XHIGH),
        (r"gpt-5(\.1)?-codex", _LOW_HIGH),
        (r"gpt-5\.\d+-codex", _LOW_XHIGH),
        (r"gpt-5\.1(-|$)", ("none", *_LOW_HIGH)),
        (r"gpt-5\.\d+", ("none", *_LOW_XHIGH)),
        (r"gpt-5", ("minimal", *_LOW_HIGH)),
        (r"o1-(mini|preview)", ()),
        (r"o\d|codex-mini|gpt-oss", _LOW_HIGH),
        (r"gpt-|chatgpt-|davinci|babbage", ()),  # gpt-4o, gpt-4.1, gpt-3.5...: they do not reason
    )
)
#: Our level → OpenAI's efforts, the first the model takes
_OPENAI_WORDS: dict[ThinkLevel, tuple[str, ...]] = {
    "off": ("none", "minimal"),
    "low": ("low",),
    "medium": ("medium",),
    "high": ("high",),
    "max": ("xhigh", "high"),
}


def _openai_efforts(model: str) -> tuple[str, ...] | None:
    """The efforts ``model`` takes (empty: it does not reason); None when it is not known here."""
    return next((e for pattern, e in _OPENAI_EFFORTS if pattern.match(model)), None)


def openai_reasons(model: str) -> bool:
    """Whether ``model`` may reason (unknown ones may): it is asked for reasoning items and summaries."""
    return _openai_efforts(model) != ()


def openai(model: str, level: ThinkLevel) -> str:
    """OpenAI's ``reasoning.effort`` (``reasoning_effort``) for ``level`` on ``model``."""
    takes = _openai_efforts(model)
    if takes is None:
        return _OPENAI_WORDS[level][-1] if level == "max" else _OPENAI_WORDS[level][0]
    word = next((w for w in _OPENAI_WORDS[level] if w in takes), None)
    if word is not None:
        return word
    if not takes:
        raise ConfigurationError(
            f"openai:{model} does not reason, so it takes no thinking level; "
            "use a reasoning model for one, e.g. openai:gpt-5-mini."
        )
    levels = ", ".join(lv for lv in THINK_LEVELS if any(w in takes for w in _OPENAI_WORDS[lv]))
    raise ConfigurationError(f"openai:{model} cannot take thinking level {level!r}; it takes {levels}.")


# -- Anthropic ----------------------------------------------------------------------------
# Older Claude models do not think; 3.7 to 4.5 think within a budget; 4.6 think adaptively
# (an effort) or within a budget, and can be turned off; Opus 4.7, Mythos and Fable think
# adaptively only ("enabled" and "disabled" both refused) and hide the text unless asked.
_CLAUDE_SILENT = re.compile(r"claude-(2|instant|3-(?!7))")
_CLAUDE_BUDGET = re.compile(r"claude-(3-7-|(sonnet|opus)-4(-[015]|-2025|$)|haiku-4)")
_CLAUDE_ADAPTIVE_ONLY = re.compile(r"claude-(opus-4-[7-9]|mythos|fable)")
_CLAUDE_NO_MAX = re.compile(r"claude-sonnet-4-6")  # its effort stops at high
_CLAUDE_32K = re.compile(r"claude-opus-4(-[01]|-2025|$)")  # answers of at most 32000 tokens, thinking included


def _anthropic_levels(model: str) -> Levels:
    if _CLAUDE_SILENT.match(model):
        return _NONE
    if _CLAUDE_ADAPTIVE_ONLY.match(model):
        return _ON
    if _CLAUDE_NO_MAX.match(model):
        return Levels(("off", "low", "medium", "high"), "its effort stops at high")
    return _ALL


def anthropic(model: str, level: ThinkLevel | None, show: bool, max_tokens: int | None, default: int) -> dict[str, Any]:
    """The ``thinking``, ``output_config.effort`` and ``max_tokens`` arguments for ``level``.

    ``default``: the ``max_tokens`` sent when none is set, to which a budget's room is added.
    """
    ref = f"anthropic:{model}"
    if level is not None:
        _anthropic_levels(model).check(ref, level)
    budget_only = bool(_CLAUDE_BUDGET.match(model))
    adaptive_only = bool(_CLAUDE_ADAPTIVE_ONLY.match(model))
    display = {"display": "summarized"} if show and adaptive_only else {}  # omitted there unless asked
    if level is None:  # the model's default; adaptive-only models think by default, hidden unless asked
        return {"thinking": {"type": "adaptive", **display}} if display else {}
    if level == "off":
        return {"thinking": {"type": "disabled"}}
    budget = BUDGETS[level]
    if budget_only:
        if _CLAUDE_32K.match(model):  # the budget and the default answer must fit in 32000
            budget = min(budget, 32000 - default)
        _fits(ref, level, budget, max_tokens)
        return {
            "thinking": {"type": "enabled", "budget_tokens": budget},
            "max_tokens": max_tokens or default + budget,
        }
    return {
        "thinking": {"type": "adaptive", **display},
        "output_config": {"effort": level},
        "max_tokens": max_tokens or default + budget,
    }


# -- Gemini -------------------------------------------------------------------------------
# 1.x and 2.0 do not think; 2.5 take a budget (Pro cannot stop thinking; Flash-Lite does not
# think unless given one); 3 and later take a level (3 Pro: low or high), and cannot stop.
_GEMINI_VERSION = re.compile(r"gemini-(\d+)(?:\.(\d+))?")
_GEMINI_LEVEL = {"low": "LOW", "medium": "MEDIUM", "high": "HIGH", "max": "HIGH"}  # HIGH is Gemini's most


def _gemini_version(model: str) -> tuple[int, int] | None:
    found = _GEMINI_VERSION.match(model)
    return (int(found[1]), int(found[2] or 0)) if found else None


def _gemini_levels(model: str) -> Levels:
    version = _gemini_version(model)
    if (version is not None and version < (2, 5)) or model.startswith("gemma"):
        return _NONE
    if version == (2, 5):
        return _ON if "-pro" in model else _ALL
    if re.match(r"gemini-3-pro", model):
        return Levels(("low", "high", "max"), "it always thinks, at a low or a high level")
    return _ON


def gemini(model: str, level: ThinkLevel | None, show: bool, max_tokens: int | None) -> dict[str, Any] | None:
    """Gemini's ``thinking_config`` for ``level`` (None: send none)."""
    ref = f"google:{model}"
    levels = _gemini_levels(model)
    if level is not None:
        levels.check(ref, level)
    if levels is _NONE:
        return None
    shown = {"include_thoughts": True} if show else {}
    if level is None:
        return shown or None
    if level == "off":
        return {"thinking_budget": 0}
    if _gemini_version(model) == (2, 5):
        most = 32768 if "-pro" in model else 24576  # the model's own ceiling: what max asks for
        budget = most if level == "max" else BUDGETS[level]
        _fits(ref, level, budget, max_tokens)
        return {"thinking_budget": budget, **shown}
    return {"thinking_level": _GEMINI_LEVEL[level], **shown}


# -- Ollama -------------------------------------------------------------------------------
# gpt-oss always thinks, at a level; other models think or not (``thinking`` among the
# capabilities the server reports), any level but off turning it on.
_OLLAMA_LEVEL = {"low": "low", "medium": "medium", "high": "high", "max": "high"}


def ollama(model: str, level: ThinkLevel, thinks: bool | None) -> bool | str:
    """Ollama's ``think`` for ``level``; ``thinks``: whether the server says the model thinks
    (None: it did not say)."""
    ref = f"ollama:{model}"
    if model.startswith("gpt-oss"):
        _ON.check(ref, level)
        return _OLLAMA_LEVEL[level]
    (_NONE if thinks is False else _ALL).check(ref, level)
    return level != "off"
