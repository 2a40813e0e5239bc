"""Events above the prompt, at a pace a person can read.

The runner hands every event here (it keeps them for ``.wait`` itself, and
the connection has logged them already); :class:`EventView` paces them
(:mod:`qmpshell.runner.eventpace`) and prints what is shown once per frame,
in one write, so a flood costs the prompt one redraw a frame instead of one
per event.  Replies and messages go through :meth:`EventView.write`, which
prints the events that came before them first: the order stays the order
of arrival.  Events may come from the loop or from the thread running a line.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from typing import Any

from qmpshell.runner.eventpace import EventPacer

FRAME = 1 / 30
"""Seconds between two batches of events."""


class EventView:
    """Paced, batched event output for the prompt (see the module doc)."""

    def __init__(self, render: Callable[[dict[str, Any]], str], write: Callable[[str], None],
                 loop: asyncio.AbstractEventLoop, *, pacer: EventPacer | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._render = render
        self._write = write
        self._loop = loop
        self._clock = clock
        self.pacer = pacer or EventPacer()
        self._lock = threading.Lock()
        self._scheduled = False
        self._closed = False

    def add(self, event: dict[str, Any], render: Callable[[], str] | None = None) -> None:
        """An event arrived (any thread): shown within a frame, or folded.
        ``render`` makes its text (default: the view's renderer)."""
        with self._lock:
            self.pacer.add(event, self._clock(), render or (lambda: self._render(event)))
            if self._scheduled or self._closed:
                return
            self._scheduled = True
        try:
            self._loop.call_soon_threadsafe(self._loop.call_later, FRAME, self._frame)
        except RuntimeError:  # the loop is gone: the shell is leaving
            with self._lock:
                self._scheduled = False

    def write(self, text: str) -> None:
        """A reply or message: after the events that came before it."""
        with self._lock:
            batch = self._batch(self.pacer.frame(self._clock()), also=text)
        self._write(batch)

    def take_folded(self) -> tuple[list[str], int]:
        """``.events``: the folded events kept, as text, and how many were not kept."""
        with self._lock:
            kept, not_kept = self.pacer.take_folded()
        return [render() for render in kept], not_kept

    def close(self) -> None:
        """At exit: the events still due and every fold note, then nothing more."""
        with self._lock:
            self._closed = True
            frame = self.pacer.frame(self._clock())
            frame.notes += self.pacer.flush_notes()
            batch = self._batch(frame)
        if batch:
            self._write(batch)

    def _frame(self) -> None:
        with self._lock:
            self._scheduled = False
            frame = self.pacer.frame(self._clock())
            batch = self._batch(frame)
            if self.pacer.has_notes() and not self._closed:
                self._scheduled = True  # fold notes still to say, a second from now
                self._loop.call_later(self.pacer.summary_every, self._frame)
        if batch:
            self._write(batch)

    def _batch(self, frame: Any, also: str | None = None) -> str:
        parts = [render() for render in frame.events]
        parts.extend(frame.notes)
        if also is not None:
            parts.append(also)
        return "\n".join(parts)
