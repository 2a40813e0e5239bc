"""JSON from files and typed lines, decoded with a nesting limit; and
compact JSON out, as ``json.dumps`` writes it, at the cost of one C call.

Session files, raw JSON lines, the schema cache, ``--schema`` files: a
value nested deeper than :data:`MAX_DEPTH` is refused before it is parsed,
so that nothing later (masking, logging, rendering, recording) meets a depth
it cannot walk.  QMP itself never nests more than a few levels.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from functools import cache
from itertools import accumulate

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing
if TYPE_CHECKING:
    from typing import Any

MAX_DEPTH = 256
"""Levels of arrays and objects accepted, as for messages from the server."""


class TooDeep(ValueError):
    """JSON nested deeper than the limit."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"JSON nested deeper than {limit} levels")
        self.limit = limit


def too_deep(text: str, limit: int = MAX_DEPTH) -> bool:
    """Whether JSON ``text`` nests deeper than ``limit``: a bracket count
    first (ordinary text stops there), then the brackets outside strings.
    Linear, and in C but for one step per bracket."""
    if text.count("[") + text.count("{") <= limit:
        return False
    if "\\" in text:
        text = re.sub(r"\\.", "", text)  # an escaped quote does not end a string
    outside = "".join(text.split('"')[::2])  # the text between strings
    steps = (1 if c in "[{" else -1 for c in re.sub(r"[^\[\]{}]", "", outside))
    return max(accumulate(steps), default=0) > limit


def loads(text: str | bytes, limit: int = MAX_DEPTH) -> Any:
    """``json.loads`` that raises :class:`TooDeep` (a ValueError) past ``limit``."""
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    if too_deep(text, limit):
        raise TooDeep(limit)
    try:
        return json.loads(text)
    except RecursionError:
        raise TooDeep(limit) from None


def dumps(value: Any) -> str:
    """``json.dumps(value)``, the same text and errors but for a circular
    value (RecursionError, as for one too deep): every request sent and every
    reply printed goes through here, and ``json.dumps`` builds its C encoder
    anew at each call."""
    return "".join(_encoder()(value, 0))


def compact_dumps(value: Any) -> str:
    """:func:`dumps` without the blanks after ``:`` and ``,``: for requests on
    the wire, where QEMU reads every byte in a turn of its loop."""
    return "".join(_encoder(":", ",")(value, 0))


@cache
def _encoder(colon: str = ": ", comma: str = ", ") -> Callable[[Any, int], list[str]]:
    """The C encoder ``json.dumps`` uses, built once for each pair of
    separators (its pure-Python fallback where the interpreter has no C
    accelerator)."""
    from json import encoder

    make: Any = getattr(encoder, "c_make_encoder", None)
    if make is None:  # pragma: no cover - CPython has it
        return lambda value, _level: [json.dumps(value, separators=(comma, colon))]
    default = json.JSONEncoder().default
    made: Callable[[Any, int], list[str]] = make(
        None, default, encoder.encode_basestring_ascii, None, colon, comma, False, False, True)
    return made
