"""The rows of a ``--map``: any list, tuple, iterable, pandas or polars table or Series, one at a time.

A table's row is a :class:`Row`, so ``{{row.col}}`` and ``{{row['col']}}`` find a column through
the ordinary placeholder lookup (a missing column fails with the columns it has), and ``{{row}}``
reads as ``col: value`` lines. Rows are read lazily — a generator of 100,000 items is never held
whole — and a pandas input's index is kept, so results line up with it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sized
from dataclasses import dataclass
from typing import Any

from ..exceptions import UsageError
from .values import render_value


class Row(Mapping[str, Any]):
    """One table row: its columns by name, as items and as attributes (a column named like a
    method, ``values`` or ``items``, is still the column)."""

    __slots__ = ("_columns",)

    def __init__(self, columns: Iterable[tuple[str, Any]]) -> None:
        object.__setattr__(self, "_columns", dict(columns))

    def __getattribute__(self, name: str) -> Any:
        columns = object.__getattribute__(self, "_columns")
        if name in columns:
            return columns[name]
        return object.__getattribute__(self, name)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):  # probes such as _repr_png_: not a column
            raise AttributeError(name)
        known = ", ".join(object.__getattribute__(self, "_columns"))
        raise UsageError(f"{{{{row.{name}}}}}: the rows have no column {name!r} (their columns: {known}).")

    def __getitem__(self, key: str) -> Any:
        return object.__getattribute__(self, "_columns")[key]

    def __iter__(self) -> Iterator[str]:
        return iter(object.__getattribute__(self, "_columns"))

    def __len__(self) -> int:
        return len(object.__getattribute__(self, "_columns"))

    def __repr__(self) -> str:
        return f"Row({object.__getattribute__(self, '_columns')!r})"

    def _llm_prompt_(self) -> str:
        return "\n".join(f"{key}: {render_value(value, 1_000)}" for key, value in self.items())


@dataclass
class Rows:
    """A map's input: its items (read once), how many there are when known, and a pandas index."""

    items: Iterator[Any]
    total: int | None
    index: Any = None  # pandas Index of a DataFrame or Series, else None (positions)


def rows_of(value: Any, name: str = "the input") -> Rows:
    """The rows of ``value``; a string, a mapping or something not iterable is refused in one line."""
    kind = type(value)
    module = kind.__module__.split(".")[0]
    if module == "pandas" and kind.__name__ == "DataFrame":
        columns = [str(c) for c in value.columns]
        items: Iterator[Any] = (Row(zip(columns, t, strict=True)) for t in value.itertuples(index=False, name=None))
        return Rows(items, len(value), value.index)
    if module == "pandas" and kind.__name__ == "Series":
        return Rows(iter(value.tolist()), len(value), value.index)
    if module == "polars" and kind.__name__ == "DataFrame":
        return Rows((Row(r.items()) for r in value.iter_rows(named=True)), value.height)
    if module == "polars" and kind.__name__ == "Series":
        return Rows(iter(value), len(value))
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, Iterable):
        raise UsageError(
            f"--map needs a list, tuple, DataFrame, Series or other iterable of rows; {name} is a "
            f"{kind.__name__}. Wrap one item in a list: [{name}]."
        )
    total = len(value) if isinstance(value, Sized) else None
    return Rows((Row(item.items()) if _is_record(item) else item for item in value), total)


def _is_record(item: Any) -> bool:
    return isinstance(item, Mapping) and all(isinstance(k, str) for k in item)
