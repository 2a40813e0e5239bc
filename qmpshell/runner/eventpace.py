"""Which events a person at the prompt sees, and when.

A guest can make QEMU send events faster than anyone reads them (a disk
failing gives BLOCK_IO_ERROR after BLOCK_IO_ERROR).  The prompt prints events
in batches, once per frame, and up to a reading pace one by one; past that
pace they are folded: counted per event name, kept for ``.events``, and one
line per name says so, at most once a second::

    … 9,400 BLOCK_IO_ERROR events folded; .events shows them

Pure bookkeeping (no I/O, no clock of its own): the caller says what time it
is.  Every event still reaches ``--logfile`` and ``.wait``; only what is
printed above the prompt is paced.  Adding an event costs O(1).
"""

from __future__ import annotations

import collections
from dataclasses import dataclass, field
from typing import Any

READABLE = 20.0
"""Events per second shown one by one once a burst is used up."""
BURST = 50
"""Events shown at once after a quiet spell."""
KEEP = 10_000
"""Folded events kept for ``.events`` (the newest ones)."""
SUMMARY_EVERY = 1.0
"""Seconds between two 'folded' lines."""


def fold_note(name: str, count: int) -> str:
    """``… 9,400 BLOCK_IO_ERROR events folded; .events shows them``."""
    noun = "event" if count == 1 else "events"
    return f"… {count:,} {name} {noun} folded; .events shows them"


@dataclass
class Frame:
    """What to print now: events one by one, then the fold notes."""

    events: list[Any] = field(default_factory=list)
    """The events (or what was added with them) to show now."""
    notes: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.events or self.notes)


class EventPacer:
    """Paces events for a person (see the module doc)."""

    def __init__(self, *, readable: float = READABLE, burst: int = BURST, keep: int = KEEP,
                 summary_every: float = SUMMARY_EVERY) -> None:
        self.readable = readable
        self.burst = burst
        self.summary_every = summary_every
        self._tokens = float(burst)
        self._last: float | None = None
        self._pending: list[Any] = []
        self._counts: collections.Counter[str] = collections.Counter()
        self._last_note: float | None = None
        self._kept: collections.deque[Any] = collections.deque(maxlen=keep)
        self.folded_total = 0
        """Events folded since the start (kept or not)."""

    def add(self, event: dict[str, Any], now: float, item: Any = None) -> None:
        """One event arrived at ``now`` (seconds, any monotonic clock);
        ``item`` is what to hand back for it (default: the event)."""
        item = event if item is None else item
        if self._last is not None:
            self._tokens = min(float(self.burst),
                               self._tokens + (now - self._last) * self.readable)
        self._last = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            self._pending.append(item)
            return
        name = event.get("event")
        self._counts[name if isinstance(name, str) else "?"] += 1
        self._kept.append(item)
        self.folded_total += 1

    def frame(self, now: float) -> Frame:
        """What to print at ``now``: the events shown since the last frame,
        and the fold notes when a second has passed since the last ones."""
        frame = Frame(self._pending)
        self._pending = []
        if self._counts and (self._last_note is None
                             or now - self._last_note >= self.summary_every):
            frame.notes = [fold_note(name, count) for name, count in self._counts.items()]
            self._counts.clear()
            self._last_note = now
        return frame

    def has_notes(self) -> bool:
        """Whether events were folded that no note has told of yet."""
        return bool(self._counts)

    def flush_notes(self) -> list[str]:
        """Every fold note not said yet (before a line's output, at exit)."""
        notes = [fold_note(name, count) for name, count in self._counts.items()]
        self._counts.clear()
        return notes

    def take_folded(self) -> tuple[list[Any], int]:
        """``.events``: the folded events kept, oldest first, and how many
        older ones were folded but not kept; both are forgotten."""
        kept = list(self._kept)
        self._kept.clear()
        not_kept, self.folded_total = self.folded_total - len(kept), 0
        return kept, not_kept
