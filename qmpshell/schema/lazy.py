"""A table of schema entries decoded one by one, when first looked up.

A one-shot command needs one command and the few types its arguments use,
not the eight hundred a modern QEMU describes; decoding them all was most of
a warm start.  A cached schema keeps each entry as its JSON text, and this
table turns an entry into its model object the first time it is asked for.

An entry that does not decode (a tampered cache file) reads as ``fallback``
gives it, so that a bad entry costs that entry's checks, never a traceback.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, MutableMapping

from qmpshell.debug import note

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing
if TYPE_CHECKING:
    from typing import Any, TypeVar

    V = TypeVar("V")
else:
    V = object  # a type parameter for mypy only


class LazyTable(MutableMapping[str, V]):
    """``name -> entry``, decoding ``raw[name]`` with ``decode`` on first use."""

    __slots__ = ("_raw", "_decoded", "_decode", "_fallback")

    def __init__(self, raw: Mapping[str, Any], decode: Callable[[Any], V],
                 fallback: Callable[[str], V]) -> None:
        self._raw = dict(raw)
        self._decoded: dict[str, V] = {}
        self._decode = decode
        self._fallback = fallback

    def __getitem__(self, name: str) -> V:
        try:
            return self._decoded[name]
        except KeyError:
            pass
        raw = self._raw[name]  # KeyError: not in the table
        try:
            value = self._decode(raw)
        except (ValueError, TypeError, KeyError, AttributeError, RecursionError) as error:
            note("schema.cache", "entry %r unreadable (%s): taken as unchecked", name, error)
            value = self._fallback(name)
        self._decoded[name] = value
        return value

    def get(self, name: str, default: Any = None) -> Any:
        try:
            return self[name]
        except KeyError:
            return default

    def __contains__(self, name: object) -> bool:
        return name in self._decoded or name in self._raw

    def __setitem__(self, name: str, value: V) -> None:
        self._decoded[name] = value

    def __delitem__(self, name: str) -> None:
        found = self._raw.pop(name, None) is not None
        found = self._decoded.pop(name, None) is not None or found
        if not found:
            raise KeyError(name)

    def __iter__(self) -> Iterator[str]:
        yield from self._raw
        yield from (name for name in self._decoded if name not in self._raw)

    def __len__(self) -> int:
        return len(self._raw) + sum(1 for name in self._decoded if name not in self._raw)

    def __repr__(self) -> str:
        return f"LazyTable({len(self)} entries, {len(self._decoded)} decoded)"
