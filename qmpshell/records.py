"""Small value objects that cost nothing to define.

``typing.NamedTuple`` and ``dataclasses`` both compile code each time a class
is defined; a one-shot command defines two dozen such classes before it sends
its line, and that was a tenth of its start-up.  A record class lists its
fields in ``__slots__`` and sets each once in ``__init__``; this base gives it
equality, hashing, a repr and ``_replace`` from those names.  Records are not
changed after ``__init__`` (by convention: nothing assigns to their fields).
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing
if TYPE_CHECKING:
    from typing import Any, Self



class Record:
    """Equality, hash, repr and copies-with-changes, from ``__slots__``."""

    __slots__: tuple[str, ...] = ()

    def _values(self) -> tuple[Any, ...]:
        return tuple([getattr(self, name) for name in self.__slots__])

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, Record)
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash((type(self).__name__, self._values()))

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__slots__)
        return f"{type(self).__name__}({fields})"

    def _asdict(self) -> dict[str, Any]:
        """The fields by name, in their order."""
        return {name: getattr(self, name) for name in self.__slots__}

    def _replace(self, **changes: Any) -> Self:
        """A copy with some fields changed."""
        fields = self._asdict()
        fields.update(changes)
        return type(self)(**fields)
