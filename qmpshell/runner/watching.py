"""What the runner shows while it waits: progress of long work, ``.watch``.

:class:`ProgressView` joins a :class:`~qmpshell.runner.progress.Poller`
(what to ask, when), a :class:`~qmpshell.runner.progress.Tracker` (what is
known) and a :class:`~qmpshell.runner.live.LiveArea` (the lines on the
terminal).  The runner's wait loop does the I/O: it sends the request
:meth:`ProgressView.take` hands out, one at a time, gives the reply back to
:meth:`ProgressView.answered`, feeds every event to
:meth:`ProgressView.event`, and sleeps no longer than
:meth:`ProgressView.seconds_to_next`.

:class:`WatchView` draws the snapshots of a ``.watch`` in place, the
changes since the previous one highlighted.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from qmpshell.runner.live import LiveArea, Terminal, mark_changes
from qmpshell.runner.progress import QUERIES, WORK_EVENTS, Poller, Tracker, works_of

Clock = Callable[[], float]


class ProgressView:
    """Live progress lines for one ``.wait`` (see module doc)."""

    def __init__(self, terminal: Terminal, *, about_work: bool, event: str = "",
                 seen: Iterable[Mapping[str, Any]] = (), clock: Clock = time.time) -> None:
        """``about_work``: the wait is for an event that ends or advances long
        work (keep asking while nothing runs yet); otherwise one look, and
        more only when an event says some work changed.  ``event``: the
        event waited for (its kind of work is asked about first).  ``seen``:
        events received before the wait (when a job was created)."""
        self.clock = clock
        now = clock()
        self.area = LiveArea(terminal)
        self.fold = terminal.shares_output
        self.tracker = Tracker()
        queries: tuple[str, ...] = QUERIES if about_work else QUERIES[:2]
        first = {"DUMP_COMPLETED": "query-dump", "MIGRATION": "query-migrate",
                 "MIGRATION_PASS": "query-migrate"}.get(event.upper())
        if first is not None and first in queries:  # what the wait is about, first
            queries = (first, *(q for q in queries if q != first))
        self.poller = Poller(now, idle=5.0 if about_work else 1e9, queries=queries)
        for earlier in seen:
            if earlier.get("event") in WORK_EVENTS:
                self.tracker.event(earlier, now)
        self._shown: list[str] = []

    # -- what the runner asks ------------------------------------------------
    def take(self) -> dict[str, Any] | None:
        """A request to send now, or None."""
        return self.poller.take(self.clock())

    def seconds_to_next(self) -> float | None:
        """How long the runner may wait for events before the next request."""
        due = self.poller.next_due()
        return None if due is None else max(0.0, due - self.clock())

    def answered(self, request: Mapping[str, Any], reply: Mapping[str, Any]) -> None:
        """The reply to a request :meth:`take` handed out."""
        query = str(request.get("execute"))
        now = self.clock()
        error = reply.get("error")
        if isinstance(error, dict):
            self.poller.answered(query, now, running=False,
                                 refused=error.get("class") == "CommandNotFound")
            return
        kind = "job" if query in ("query-jobs", "query-block-jobs") else \
            "migration" if query == "query-migrate" else "dump"
        self.tracker.observe(works_of(query, reply.get("return")), now, kind=kind)
        self.poller.answered(query, now, running=kind in self.tracker.kinds_running())
        self.redraw()

    def event(self, event: Mapping[str, Any]) -> bool:
        """An event arrived; True when it is folded into the lines and need
        not be printed (job status chatter, when output shares the screen)."""
        if event.get("event") not in WORK_EVENTS:
            return False
        now = self.clock()
        folded = self.tracker.event(event, now)
        self.poller.nudge(event, now)
        self.redraw()
        return folded and self.fold

    def wants_final_look(self) -> bool:
        """A migration was shown: its final figures (time, downtime) come
        from one more ``query-migrate``."""
        return "migration" in self.tracker.shown_keys()

    # -- the screen ------------------------------------------------------------
    def clear(self) -> None:
        """Out of the way of other output (drawn again at the next change)."""
        self.area.clear()
        self._shown = []

    def redraw(self) -> None:
        lines = self.tracker.lines(self.clock(), self.area.terminal.columns())
        if lines != self._shown:
            self.area.draw(lines)
            self._shown = lines

    def finish(self) -> None:
        """Replace the live lines by one summary line per piece of work."""
        self.area.finish(self.tracker.summaries(self.clock()))
        self._shown = []


class WatchView:
    """``.watch`` at a terminal: each snapshot replaces the previous one,
    what changed highlighted."""

    def __init__(self, terminal: Terminal, header: str) -> None:
        self.area = LiveArea(terminal)
        self.header = header
        self._before: list[str] | None = None
        self._lines: list[str] = []

    def event(self, event: Mapping[str, Any]) -> bool:
        """Events are printed as they come (above the snapshot)."""
        return False

    def fits(self, text: str) -> bool:
        """Whether a snapshot fits on the screen (else it is printed, not redrawn)."""
        return text.count("\n") + 2 < self.area.terminal.rows()

    def show(self, text: str, count: int, when: str) -> None:
        lines = text.split("\n")
        marked = lines if self._before is None else mark_changes(self._before, lines)
        self._before = lines
        self._lines = [f"{self.header}  #{count}  {when}", *marked]
        self.area.draw(self._lines)

    def clear(self) -> None:
        self.area.clear()

    def redraw(self) -> None:
        if self._lines and not self.area.drawn:
            self.area.draw(self._lines)

    def finish(self) -> None:
        """Leave the last snapshot on the screen."""
        self.redraw()
        self.area.keep()
