"""What OpenAI's models take, by name: which reasoning efforts, and whether a JSON schema.

Both of OpenAI's APIs (Responses and Chat Completions) refuse a ``reasoning.effort`` /
``reasoning_effort`` the model does not know with a 400, after the cell has waited for
it; the models' own lists are known, so a thinking level a model cannot take is refused
here, before anything is sent, naming the levels it does take. A model not named here
(a newer one, or a compatible server's) is sent the level as asked.

Our levels map to OpenAI's words: ``off`` is ``none`` where the model has it (GPT-5.1
on), else ``minimal`` (GPT-5); ``max`` is ``xhigh`` where the model has it, else ``high``.
"""

from __future__ import annotations

import re

from .errors import ConfigurationError
from .json_mode import note
from .types import THINK_LEVELS, ThinkLevel

_LOW_HIGH = ("low", "medium", "high")
_LOW_XHIGH = (*_LOW_HIGH, "xhigh")
#: (model name pattern, the efforts it takes): the first that matches the start of the name wins
_EFFORTS: tuple[tuple[re.Pattern[str], tuple[str, ...]], ...] = tuple(
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
_WORDS: dict[ThinkLevel, tuple[str, ...]] = {
    "off": ("none", "minimal"),
    "low": ("low",),
    "medium": ("medium",),
    "high": ("high",),
    "max": ("xhigh", "high"),
}
#: Models older than JSON-schema mode (``json_schema`` formats): JSON mode only.
_NO_JSON_SCHEMA = ("gpt-3.5", "gpt-4-")


def efforts(model: str) -> tuple[str, ...] | None:
    """The efforts ``model`` takes (empty: it does not reason); None when it is not known here."""
    return next((e for pattern, e in _EFFORTS if pattern.match(model)), None)


def reasons(model: str) -> bool:
    """Whether ``model`` may reason (unknown ones may): it is asked for reasoning items and summaries."""
    return efforts(model) != ()


def effort(model: str, level: ThinkLevel) -> str:
    """OpenAI's effort for ``level`` on ``model``; a level it cannot take fails before sending."""
    takes = efforts(model)
    if takes is None:
        return _WORDS[level][-1] if level == "max" else _WORDS[level][0]
    word = next((w for w in _WORDS[level] if w in takes), None)
    if word is not None:
        return word
    if not takes:
        raise ConfigurationError(
            f"openai:{model} does not reason, so it takes no thinking level; "
            "use a reasoning model for one, e.g. openai:gpt-5-mini."
        )
    levels = ", ".join(lv for lv in THINK_LEVELS if any(w in takes for w in _WORDS[lv]))
    raise ConfigurationError(f"openai:{model} cannot take thinking level {level!r}; it takes {levels}.")


def takes_json_schema(model: str, schema_name: str | None) -> bool:
    """Whether ``model`` answers to a JSON schema; if one was asked of an older model, that is said."""
    old = model == "gpt-4" or model.startswith(_NO_JSON_SCHEMA)
    if old and schema_name is not None:
        note(
            f"openai:{model} cannot answer to a JSON schema: "
            f"it is asked for a JSON object, checked against {schema_name}."
        )
    return not old
