"""Progress of long work: block jobs, live migration, memory dumps.

While ``.wait`` waits, the runner polls ``query-jobs``, ``query-migrate``
and ``query-dump`` (when :class:`Poller` says a query is due) and hands the
replies and the events it receives to a :class:`Tracker`; the tracker keeps
what it needs to say how far each piece of work is, how fast it goes and
when it will be done: :meth:`Tracker.lines` for the live lines,
:meth:`Tracker.summaries` when the wait ends (``mirror j0: ready, 256 MiB in
4.1 s, 62 MiB/s``).

Sans-I/O: nothing here sends a request or touches a terminal; times are
passed in (wall-clock seconds, the clock QEMU stamps its events with), so
every line can be tested as text.  Drawing lines in place is
:mod:`qmpshell.runner.live`.
"""

from __future__ import annotations

import collections
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from qmpshell.runner import units
from qmpshell.runner.tables import render_table

JOB_ACTIVE = frozenset(("created", "running", "paused", "ready", "standby", "waiting",
                        "pending", "aborting", "undefined"))
MIGRATION_ACTIVE = frozenset(("setup", "active", "postcopy-active", "postcopy-paused",
                              "postcopy-recover", "pre-switchover", "device", "wait-unplug",
                              "cancelling", "colo"))
DUMP_ACTIVE = frozenset(("active",))

WORK_EVENTS = frozenset(("BLOCK_JOB_READY", "BLOCK_JOB_COMPLETED", "BLOCK_JOB_CANCELLED",
                         "BLOCK_JOB_ERROR", "BLOCK_JOB_PENDING", "JOB_STATUS_CHANGE",
                         "MIGRATION", "MIGRATION_PASS", "DUMP_COMPLETED"))
"""Events that end or advance long work: a ``.wait`` for one shows progress."""

BAR_WIDTH = 22
"""Columns of a progress bar when the terminal is wide enough."""

RATE_WINDOW = 3.0
"""Seconds of samples the current rate is measured over."""


@dataclass(frozen=True)
class Work:
    """One piece of long work as QEMU last described it."""

    key: str
    """``job:ID``, ``migration`` or ``dump``: what the tracker files it under."""
    label: str
    """What a person calls it: ``mirror j0``, ``migration``, ``dump``."""
    status: str
    done: int = 0
    total: int = 0
    error: str | None = None
    rate: float | None = None
    """Bytes per second as QEMU measures it (migration), None to measure here."""
    notes: tuple[str, ...] = ()
    """Extra facts for the line: dirty-page rate, expected downtime."""
    took: float | None = None
    """Seconds the work took, as QEMU measured it (a finished migration)."""
    downtime: float | None = None
    """Milliseconds the guest was stopped (a finished migration)."""

    @property
    def active(self) -> bool:
        if self.key == "migration":
            return self.status in MIGRATION_ACTIVE
        if self.key == "dump":
            return self.status in DUMP_ACTIVE
        return self.status in JOB_ACTIVE


# -- replies -> work ----------------------------------------------------------------

def jobs_of(value: Any) -> list[Work]:
    """``query-jobs``' return value."""
    return _job_list(value, "id", "current-progress", "total-progress")


def block_jobs_of(value: Any) -> list[Work]:
    """``query-block-jobs``' return value (QEMUs without ``query-jobs``)."""
    return _job_list(value, "device", "offset", "len")


def _job_list(value: Any, name: str, done: str, total: str) -> list[Work]:
    """The jobs of either reply, which name the same facts differently."""
    works = []
    for job in value if isinstance(value, list) else ():
        if not isinstance(job, dict) or name not in job:
            continue
        works.append(Work(f"job:{job[name]}", f"{job.get('type', 'job')} {job[name]}",
                          str(job.get("status", "?")), _int(job.get(done)),
                          _int(job.get(total)), job.get("error")))
    return works


def migration_of(value: Any) -> Work | None:
    """``query-migrate``' return value (None before any migration)."""
    if not isinstance(value, dict) or "status" not in value:
        return None
    ram: dict[str, Any] = value["ram"] if isinstance(value.get("ram"), dict) else {}
    total = _int(ram.get("total"))
    done = total - _int(ram.get("remaining")) if total else 0
    mbps = ram.get("mbps")
    rate = mbps * 1e6 / 8 if isinstance(mbps, (int, float)) and mbps > 0 else None
    notes = []
    dirty, page = _int(ram.get("dirty-pages-rate")), _int(ram.get("page-size")) or 4096
    passes = _int(ram.get("dirty-sync-count"))
    if passes > 1:
        notes.append(f"pass {passes}")
    if dirty:
        notes.append(f"dirtying {units.rate(dirty * page)}")
    if isinstance(value.get("expected-downtime"), (int, float)):
        notes.append(f"downtime ~{units.milliseconds(value['expected-downtime'])}")
    took = value.get("total-time")
    downtime = value.get("downtime")
    if not (isinstance(took, (int, float)) and took > 0):
        # QEMU says 'completed' a moment before it fills in its totals: zeros
        # then mean "not yet known", and the time seen here is used instead
        took = downtime = None
    return Work("migration", "migration", str(value["status"]), done, total,
                value.get("error-desc"), rate, tuple(notes),
                took / 1000 if took is not None else None,
                downtime if isinstance(downtime, (int, float)) else None)


def dump_of(value: Any) -> Work | None:
    """``query-dump``' return value (None when no dump ever ran)."""
    if not isinstance(value, dict) or value.get("status") in (None, "none"):
        return None
    return Work("dump", "dump", str(value["status"]), _int(value.get("completed")),
                _int(value.get("total")))


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


# -- tracking -------------------------------------------------------------------------

@dataclass
class _Entry:
    work: Work
    started: float
    start_done: int
    samples: collections.deque[tuple[float, int]]
    ended: float | None = None
    shown: bool = False
    """Active at some point of this wait: it gets a line and a summary."""


class Tracker:
    """What is known of each piece of long work during one wait."""

    def __init__(self) -> None:
        self._entries: dict[str, _Entry] = {}
        self._created: dict[str, float] = {}

    # -- what comes in ----------------------------------------------------
    def observe(self, works: Iterable[Work], now: float, *, kind: str) -> None:
        """A poll's answer for ``kind`` (``job``, ``migration``, ``dump``):
        work of that kind it does not list any more has ended."""
        listed = set()
        for work in works:
            listed.add(work.key)
            self._update(work, now)
        for key, entry in self._entries.items():
            if _kind(key) == kind and key not in listed and entry.ended is None:
                status = entry.work.status
                entry.work = replace(entry.work, status="concluded" if status in JOB_ACTIVE
                                     else status)
                entry.ended = now

    def event(self, event: Mapping[str, Any], now: float) -> bool:
        """Fold an event into the lines; True for the chatter a live line
        replaces (``JOB_STATUS_CHANGE``), which need not be shown."""
        name = event.get("event")
        data: dict[str, Any] = event["data"] if isinstance(event.get("data"), dict) else {}
        when = _stamp(event, now)
        if name == "JOB_STATUS_CHANGE" and "id" in data:
            key, status = f"job:{data['id']}", str(data.get("status", "?"))
            if status == "created":
                self._created[key] = when
            self._set_status(key, status, when)
            return True
        if name in ("BLOCK_JOB_READY", "BLOCK_JOB_COMPLETED", "BLOCK_JOB_CANCELLED") \
                and "device" in data:
            key = f"job:{data['device']}"
            status = {"BLOCK_JOB_READY": "ready", "BLOCK_JOB_COMPLETED": "completed",
                      "BLOCK_JOB_CANCELLED": "cancelled"}[str(name)]
            if key not in self._entries:
                label = f"{data.get('type', 'job')} {data['device']}"
                self._update(Work(key, label, "running"), self._created.get(key, when))
            entry = self._entries[key]
            entry.work = replace(entry.work, done=_int(data.get("offset")) or entry.work.done,
                                 total=_int(data.get("len")) or entry.work.total,
                                 error=data.get("error") or entry.work.error)
            self._set_status(key, status, when)
        elif name == "MIGRATION" and "status" in data:
            if data["status"] == "setup":
                self._created["migration"] = when
            self._set_status("migration", str(data["status"]), when)
        elif name == "DUMP_COMPLETED":
            result: dict[str, Any] = (data["result"] if isinstance(data.get("result"), dict)
                                      else {})
            status = "failed" if data.get("error") else "completed"
            self._set_status("dump", status, when)
            if "dump" in self._entries:
                entry = self._entries["dump"]
                entry.work = replace(entry.work, done=_int(result.get("completed")),
                                     total=_int(result.get("total")), error=data.get("error"))
        return False

    def _update(self, work: Work, now: float) -> None:
        entry = self._entries.get(work.key)
        if entry is None:
            started = self._created.get(work.key, now)
            entry = self._entries[work.key] = _Entry(
                work, started, 0 if work.key in self._created else work.done,
                collections.deque())
        else:
            entry.work = work
        if work.active:
            entry.shown = True
            entry.ended = None if work.status != "ready" else entry.ended or now
        elif entry.ended is None:
            entry.ended = now
        entry.samples.append((now, work.done))
        while len(entry.samples) > 2 and now - entry.samples[1][0] >= RATE_WINDOW:
            entry.samples.popleft()

    def _set_status(self, key: str, status: str, when: float) -> None:
        entry = self._entries.get(key)
        if entry is None:
            if key == "migration" and status in MIGRATION_ACTIVE:
                self._update(Work("migration", "migration", status), when)
            return
        if status != "created" and _FINAL.get(status, 0) < _FINAL.get(entry.work.status, 0):
            return  # 'null' after 'concluded' after 'cancelled' says less
        entry.work = replace(entry.work, status=status)
        if entry.work.active and status != "ready":
            entry.shown = True
            entry.ended = None
        elif entry.ended is None or status in ("ready", "completed", "concluded"):
            entry.ended = when if entry.ended is None else min(entry.ended, when)
        if status in ("ready", "completed") and entry.work.total:
            entry.work = replace(entry.work, done=entry.work.total)

    # -- what goes out --------------------------------------------------------
    @property
    def running(self) -> bool:
        """Some work is under way (or was during this wait)."""
        return any(e.shown for e in self._entries.values())

    def shown_keys(self) -> set[str]:
        """The work that has a line (was under way during this wait)."""
        return {key for key, e in self._entries.items() if e.shown}

    def kinds_running(self) -> set[str]:
        """The kinds (``job``, ``migration``, ``dump``) with active work."""
        return {_kind(key) for key, e in self._entries.items() if e.work.active}

    def lines(self, now: float, width: int = 80) -> list[str]:
        """One live line per piece of work under way during this wait."""
        return [progress_line(e.work, self._rate(e), width)
                for e in self._entries.values() if e.shown]

    def summaries(self, now: float) -> list[str]:
        """One line per piece of work seen under way: how it ended (or where
        it is, when still running), how much, how long, how fast."""
        return [summary_line(e.work, *self._took_moved(e, now))
                for e in self._entries.values() if e.shown]

    def _rate(self, entry: _Entry) -> float | None:
        if entry.work.rate is not None:
            return entry.work.rate
        samples = entry.samples
        if len(samples) < 2:
            return None
        (t0, d0), (t1, d1) = samples[0], samples[-1]
        if t1 - t0 < 0.2 or d1 < d0:
            return None
        return (d1 - d0) / (t1 - t0)

    def _took_moved(self, entry: _Entry, now: float) -> tuple[float, int]:
        """Seconds and bytes from when the work was first seen (its creation,
        when the event was received) to its end: QEMU's own figures for a
        finished migration."""
        work = entry.work
        if work.took is not None and not work.active:
            return work.took, work.done
        end = entry.ended if entry.ended is not None else now
        return max(0.0, end - entry.started), max(0, work.done - entry.start_done)


_FINAL = {"null": 1, "concluded": 2, "completed": 3, "cancelled": 3, "failed": 3}
"""How much a job's last statuses say: the later, vaguer ones do not replace
what a BLOCK_JOB_COMPLETED or BLOCK_JOB_CANCELLED said."""


def _kind(key: str) -> str:
    return key.split(":", 1)[0]


def _stamp(event: Mapping[str, Any], now: float) -> float:
    stamp = event.get("timestamp")
    if isinstance(stamp, dict) and isinstance(seconds := stamp.get("seconds"), int):
        return seconds + _int(stamp.get("microseconds")) / 1e6
    return now


# -- lines ------------------------------------------------------------------------------

def bar(fraction: float, width: int) -> str:
    """``[########............]``, ``width`` columns in all."""
    inside = max(1, width - 2)
    filled = int(round(max(0.0, min(1.0, fraction)) * inside))
    return "[" + "#" * filled + "." * (inside - filled) + "]"


def progress_line(work: Work, rate: float | None, width: int = 80) -> str:
    """``mirror j0 running [#####.....]  45%  115 MiB / 256 MiB  50 MiB/s  3.0 s left``,
    fitted to ``width`` columns (the bar shrinks first, then the notes go)."""
    head = f"{work.label} {work.status}"
    pct = units.percent(work.done, work.total)
    facts = [f"{pct:3.0f}%"] if work.total else []
    if work.total:
        facts.append(f"{units.size(work.done)} / {units.size(work.total)}")
    if rate and work.active and work.status != "ready":
        facts.append(units.rate(rate))
        if work.total > work.done:
            facts.append(f"{units.duration((work.total - work.done) / rate)} left")
    if work.error:
        facts.append(f"error: {work.error}")
    notes = list(work.notes)
    while True:
        tail = "  ".join(facts + notes)
        room = width - 1 - len(head) - len(tail) - 4
        if room >= 12 or not notes:
            break
        notes.pop()
    if work.total and room >= 6:
        line = f"{head}  {bar(work.done / work.total, min(room, BAR_WIDTH))}  {tail}"
    else:
        line = f"{head}  {tail}".rstrip()
    return line[:max(1, width - 1)]


def summary_line(work: Work, took: float, moved: int) -> str:
    """``mirror j0: ready, 256 MiB in 4.1 s, 62 MiB/s`` (and the migration's
    downtime, a failure's reason, or how far work still running is);
    ``moved`` bytes in ``took`` seconds is what the average is made of."""
    parts = [work.status]
    if work.active and work.status != "ready":
        if work.total:
            parts.append(f"{units.percent(work.done, work.total):.0f}% "
                         f"({units.size(work.done)} of {units.size(work.total)}) "
                         f"after {units.duration(took)}")
        parts.append("still running")
    elif moved:
        parts.append(f"{units.size(moved)} in {units.duration(took)}")
        if took > 0:
            parts.append(units.rate(moved / took))
    else:
        parts.append(f"after {units.duration(took)}")
    if work.downtime is not None and not work.active:
        parts.append(f"downtime {units.milliseconds(work.downtime)}")
    if work.error:
        parts.append(f"error: {work.error}")
    return f"{work.label}: " + ", ".join(parts)


# -- when to ask -----------------------------------------------------------------------

QUERIES = ("query-jobs", "query-migrate", "query-dump")
KIND_OF = {"query-jobs": "job", "query-block-jobs": "job", "query-migrate": "migration",
           "query-dump": "dump"}


class Poller:
    """Which query to send next, and when: each query every ``active``
    seconds while its kind of work runs, every ``idle`` seconds otherwise (or
    soon after an event about it), never two requests closer than ``gap``
    seconds: at most ``1/gap`` requests a second whatever happens."""

    def __init__(self, now: float, *, active: float = 0.5, idle: float = 5.0,
                 gap: float = 0.25, queries: Iterable[str] = QUERIES) -> None:
        self.active, self.idle, self.gap = active, idle, gap
        self._due = {query: now for query in queries}
        self._last_sent = now - gap

    def next_due(self) -> float | None:
        """When the next request may go (None: nothing left to ask)."""
        if not self._due:
            return None
        return max(min(self._due.values()), self._last_sent + self.gap)

    def take(self, now: float) -> dict[str, Any] | None:
        """The request to send now, if one is due (the caller sends it and
        hands the reply to :meth:`answered` before asking again)."""
        due = self.next_due()
        if due is None or due > now:
            return None
        query = min(self._due, key=lambda q: self._due[q])
        self._last_sent = now
        self._due[query] = now + self.idle  # until answered
        return {"execute": query}

    def answered(self, query: str, now: float, *, running: bool, refused: bool = False) -> None:
        """The reply to ``query`` came: ask again soon while its work runs;
        a server that refuses the query is not asked again."""
        if query not in self._due:
            return
        if refused:
            del self._due[query]
            if query == "query-jobs":
                self._due["query-block-jobs"] = now
            return
        self._due[query] = now + (self.active if running else self.idle)

    def nudge(self, event: Mapping[str, Any], now: float) -> None:
        """An event about some work: ask about that kind soon."""
        name = str(event.get("event", ""))
        query = ("query-migrate" if name.startswith("MIGRATION") else
                 "query-dump" if name == "DUMP_COMPLETED" else
                 "query-jobs" if name in WORK_EVENTS else None)
        if query == "query-jobs" and query not in self._due and "query-block-jobs" in self._due:
            query = "query-block-jobs"
        if query is not None and query in self._due:
            self._due[query] = min(self._due[query], now)


def works_of(query: str, value: Any) -> list[Work]:
    """The work a poll's return value describes."""
    if query == "query-jobs":
        return jobs_of(value)
    if query == "query-block-jobs":
        return block_jobs_of(value)
    found = migration_of(value) if query == "query-migrate" else dump_of(value)
    return [found] if found is not None else []


def jobs_table(works: Iterable[Work], *, color: bool = False) -> str:
    """``.jobs``: every job and the migration, one row each."""
    rows = []
    for work in works:
        if work.key == "migration" and not work.active:
            continue
        kind, _, name = work.label.partition(" ")
        rows.append([name or "-", kind, work.status,
                     f"{units.percent(work.done, work.total):.0f}%" if work.total else "-",
                     units.size(work.done) if work.total else "-",
                     units.size(work.total) if work.total else "-",
                     work.error or ""])
    if not rows:
        return "no jobs, no migration"
    if not any(row[-1] for row in rows):
        rows = [row[:-1] for row in rows]
    headers = ["ID", "TYPE", "STATUS", "DONE", "COPIED", "TOTAL", "ERROR"][:len(rows[0])]
    return render_table(headers, rows, right=[False, False, False, True, True, True],
                        color=color)
