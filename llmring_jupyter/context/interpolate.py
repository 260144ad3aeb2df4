"""``{{name}}`` in a prompt pulls in something from the notebook; everything else is literal.

Single braces are left alone (pasted code, JSON and f-strings are common in
prompts, and ``str.format`` breaks on them), and ``\\{{`` escapes the syntax.
A placeholder is a name followed by attributes and items — ``{{df.columns}}``,
``{{results["auc"]}}``, ``{{In[3]}}``, ``{{Out[3]}}``, ``{{_}}``, ``{{Err[5]}}`` —
looked up step by step, never evaluated as code: an item key is a number or a
quoted string, nothing else.

Values are rendered for a model to read: a DataFrame as its shape, dtypes and
first rows rather than its full repr, anything long cut with a marker, an
object with an ``_llm_prompt_()`` method (the notebook's errors) as the text it
gives, and an image (a matplotlib figure, a PIL image, anything with
``_repr_png_``/``_repr_jpeg_``) as an image part sent beside the text, with a
marker where it stood.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..exceptions import UsageError
from ..providers.types import Attachment
from . import attachments
from .values import DEFAULT_MAX_CHARS, render_value

_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_KEY = r"-?\d+|'[^'\\\n]*'|\"[^\"\\\n]*\""  # a number, or a quoted string without escapes
_PLACEHOLDER = re.compile(rf"(\\?)\{{\{{\s*({_NAME}(?:\.{_NAME}|\[\s*(?:{_KEY})\s*\])*)\s*\}}\}}")
_STEP = re.compile(rf"\.({_NAME})|\[\s*({_KEY})\s*\]")  # the steps as the placeholder matched them


@dataclass(frozen=True)
class Prompt:
    """A prompt's text and the images and documents that go with it."""

    text: str
    attachments: tuple[Attachment, ...] = ()


def interpolate(prompt: str, namespace: Mapping[str, Any], max_chars: int = DEFAULT_MAX_CHARS) -> Prompt:
    parts: list[Attachment] = []

    def substitute(match: re.Match[str]) -> str:
        if match.group(1):  # \{{name}} → {{name}}, sent as written
            return match.group(0)[1:]
        path = match.group(2)
        value = lookup(path, namespace)
        image = attachments.from_value(value, path)
        if image is not None:
            parts.append(image)
            return f"[image {len(parts)}: {path}]"
        return render_value(value, max_chars)

    return Prompt(_PLACEHOLDER.sub(substitute, prompt), tuple(parts))


def lookup(path: str, namespace: Mapping[str, Any]) -> Any:
    """The value ``path`` names: ``name``, then ``.attribute`` and ``[key]`` steps in order."""
    name = re.match(_NAME, path)
    assert name is not None  # the placeholder pattern guarantees it
    if name.group(0) not in namespace:
        raise UsageError(
            f"{{{{{path}}}}} names no variable {name.group(0)!r}: define it first, "
            f"or write \\{{{{{path}}}}} to send the braces as they are."
        )
    value = namespace[name.group(0)]
    done = name.group(0)
    for step in _STEP.finditer(path, name.end()):
        attribute, key = step.groups()
        if attribute is not None:
            try:
                value = getattr(value, attribute)
            except AttributeError:
                raise UsageError(f"{{{{{path}}}}}: {done} has no attribute {attribute!r}.") from None
        else:
            value = _item(path, done, value, key[1:-1] if key[0] in "'\"" else int(key))
        done += step.group(0)
    return value


def _item(path: str, owner: str, value: Any, key: int | str) -> Any:
    try:
        return value[key]
    except (KeyError, IndexError):
        if isinstance(value, Mapping):
            keys = list(value)[:12]
            more = ", …" if len(value) > len(keys) else ""
            known = f" (its keys: {', '.join(map(repr, keys))}{more})" if keys else " (it is empty)"
        else:
            known = f" (it has {len(value)} items)" if hasattr(value, "__len__") else ""
        raise UsageError(f"{{{{{path}}}}}: {owner} has no item {key!r}{known}.") from None
    except TypeError:
        raise UsageError(f"{{{{{path}}}}}: {owner} ({type(value).__name__}) has no items to look up.") from None
