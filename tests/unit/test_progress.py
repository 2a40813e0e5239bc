"""Progress of long work as text: the live lines, the summaries, when to
ask QEMU, drawing in place and what `.watch` highlights.  Replies are QEMU
7.2 captures (tests/fixtures) or made up; times are passed in."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from qmpshell.errors import ParseError
from qmpshell.runner.live import LiveArea, Terminal, fit, mark_changes
from qmpshell.runner.progress import (
    Poller,
    Tracker,
    Work,
    bar,
    jobs_of,
    jobs_table,
    migration_of,
    progress_line,
)
from qmpshell.runner.watching import ProgressView
from qmpshell.shorthand.dotcommands import parse_format, parse_watch

FIXTURES = Path(__file__).parents[1] / "fixtures"
MiB = 2**20


def capture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())["return"]


def event(name: str, at: float, **data: Any) -> dict[str, Any]:
    seconds = int(at)
    return {"event": name, "data": data,
            "timestamp": {"seconds": seconds, "microseconds": int((at - seconds) * 1e6)}}


def mirror(done_mib: int, status: str = "running") -> list[dict[str, Any]]:
    return [{"id": "j0", "type": "mirror", "status": status,
             "current-progress": done_mib * MiB, "total-progress": 256 * MiB}]


# -- lines and summaries ----------------------------------------------------------------

def test_a_mirror_line_has_bar_percent_bytes_rate_and_time_left() -> None:
    tracker = Tracker()
    tracker.event(event("JOB_STATUS_CHANGE", 100.0, status="created", id="j0"), 100.0)
    tracker.observe(jobs_of(capture("qemu-7.2-query-jobs-mirror-running.json")), 101.0,
                    kind="job")
    tracker.observe(jobs_of(mirror(128)), 102.0, kind="job")
    assert tracker.lines(102.0, 100) == [
        "mirror j0 running  [##########..........]   50%  128 MiB / 256 MiB  64 MiB/s  "
        "2.0 s left"]


def test_the_summary_says_how_much_in_how_long_and_how_fast() -> None:
    tracker = Tracker()
    tracker.event(event("JOB_STATUS_CHANGE", 100.0, status="created", id="j0"), 100.0)
    tracker.event(event("JOB_STATUS_CHANGE", 100.0, status="running", id="j0"), 100.0)
    tracker.observe(jobs_of(mirror(64)), 101.0, kind="job")
    tracker.event(event("JOB_STATUS_CHANGE", 104.1, status="ready", id="j0"), 104.2)
    tracker.event(event("BLOCK_JOB_READY", 104.1, device="j0", len=256 * MiB,
                        offset=256 * MiB, speed=0, type="mirror"), 104.2)
    assert tracker.summaries(105.0) == ["mirror j0: ready, 256 MiB in 4.1 s, 62.4 MiB/s"]
    assert tracker.lines(105.0)[0].startswith("mirror j0 ready  [####")


def test_work_seen_half_way_is_summed_up_from_where_it_was_seen() -> None:
    tracker = Tracker()
    tracker.observe(jobs_of(mirror(128)), 10.0, kind="job")
    tracker.observe(jobs_of(mirror(256, "ready")), 12.0, kind="job")
    assert tracker.summaries(13.0) == ["mirror j0: ready, 128 MiB in 2.0 s, 64 MiB/s"]


def test_a_cancelled_job_stays_cancelled_through_concluded_and_null() -> None:
    tracker = Tracker()
    tracker.observe(jobs_of(mirror(64)), 10.0, kind="job")
    for status in ("aborting",):
        tracker.event(event("JOB_STATUS_CHANGE", 11.0, status=status, id="j0"), 11.0)
    tracker.event(event("BLOCK_JOB_CANCELLED", 11.0, device="j0", len=256 * MiB,
                        offset=100 * MiB, speed=0, type="mirror"), 11.0)
    for status in ("concluded", "null"):
        tracker.event(event("JOB_STATUS_CHANGE", 11.0, status=status, id="j0"), 11.0)
    tracker.observe([], 11.5, kind="job")
    assert tracker.summaries(12.0) == ["mirror j0: cancelled, 36 MiB in 1.0 s, 36 MiB/s"]


def test_work_still_running_when_the_wait_stops_says_so() -> None:
    tracker = Tracker()
    tracker.observe(jobs_of(mirror(64)), 10.0, kind="job")
    assert tracker.summaries(12.0) == [
        "mirror j0: running, 25% (64 MiB of 256 MiB) after 2.0 s, still running"]


def test_job_status_chatter_is_folded_into_the_line() -> None:
    tracker = Tracker()
    tracker.observe(jobs_of(mirror(64)), 10.0, kind="job")
    assert tracker.event(event("JOB_STATUS_CHANGE", 11.0, status="paused", id="j0"), 11.0)
    assert tracker.lines(11.0)[0].startswith("mirror j0 paused ")
    assert not tracker.event(event("BLOCK_JOB_READY", 12.0, device="j0", len=1, offset=1,
                                   speed=0, type="mirror"), 12.0)


def test_migration_line_and_summary() -> None:
    tracker = Tracker()
    tracker.event(event("MIGRATION", 50.0, status="setup"), 50.0)
    tracker.observe([migration_of(capture("qemu-7.2-query-migrate-active.json"))], 51.2,
                    kind="migration")
    assert tracker.lines(51.2, 120) == [
        "migration active  [########............]   41%  52.5 MiB / 129 MiB  40 MiB/s  "
        "1.9 s left  downtime ~100 ms"]
    tracker.event(event("MIGRATION", 53.1, status="completed"), 53.1)
    tracker.observe([migration_of(capture("qemu-7.2-query-migrate-completed.json"))], 53.2,
                    kind="migration")
    assert tracker.summaries(53.3) == [
        "migration: completed, 129 MiB in 3.1 s, 40.9 MiB/s, downtime 38 ms"]


def test_totals_qemu_has_not_filled_in_yet_are_not_shown_as_zero() -> None:
    """Under load QEMU answers 'completed' before it has set total-time and
    downtime (both 0): the summary uses the time it saw, not '0.0 s'."""
    tracker = Tracker()
    tracker.event(event("MIGRATION", 50.0, status="setup"), 50.0)
    tracker.observe([migration_of(capture("qemu-7.2-query-migrate-active.json"))], 51.2,
                    kind="migration")
    early = dict(capture("qemu-7.2-query-migrate-completed.json"), **{"total-time": 0,
                                                                      "downtime": 0})
    tracker.event(event("MIGRATION", 52.0, status="completed"), 52.0)
    tracker.observe([migration_of(early)], 52.0, kind="migration")
    [line] = tracker.summaries(52.0)
    assert line.startswith("migration: completed, 129 MiB in 2.0 s, "), line
    assert "MiB/s" in line and "downtime" not in line, line


def test_a_migration_that_ended_before_the_wait_has_no_line() -> None:
    tracker = Tracker()
    tracker.observe([migration_of(capture("qemu-7.2-query-migrate-completed.json"))], 1.0,
                    kind="migration")
    assert tracker.lines(1.0) == [] and not tracker.running


def test_lines_fit_the_terminal() -> None:
    work = Work("job:j0", "backup drive-virtio-disk0", "running", 5 * MiB, 10 * 2**30)
    for width in (40, 60, 80, 120):
        line = progress_line(work, 30.0 * MiB, width)
        assert len(line) < width
    assert "[" not in progress_line(work, 30.0 * MiB, 40)
    assert bar(0.5, 12) == "[#####.....]"


def test_jobs_table_lists_jobs_and_a_running_migration() -> None:
    works = jobs_of(capture("qemu-7.2-query-jobs-mirror-running.json"))
    active = migration_of(capture("qemu-7.2-query-migrate-active.json"))
    assert active is not None
    assert jobs_table([*works, active]) == (
        "ID  TYPE       STATUS   DONE    COPIED    TOTAL\n"
        "j0  mirror     running   25%    64 MiB  256 MiB\n"
        "-   migration  active    41%  52.5 MiB  129 MiB")
    assert jobs_table([]) == "no jobs, no migration"


# -- when to ask ------------------------------------------------------------------------

def test_polling_never_exceeds_four_requests_a_second() -> None:
    poller = Poller(0.0)
    sent = []
    now = 0.0
    while now < 10.0:
        request = poller.take(now)
        if request is not None:
            sent.append(now)
            poller.answered(request["execute"], now + 0.001, running=True)
        for query in ("query-jobs", "query-migrate", "query-dump"):
            poller.nudge({"event": "JOB_STATUS_CHANGE"}, now)
            poller.nudge({"event": "MIGRATION"}, now)
            del query
        now += 0.01
    assert len(sent) <= 41
    assert all(b - a >= 0.25 - 1e-9 for a, b in zip(sent, sent[1:], strict=False))


def test_idle_queries_are_asked_rarely_and_refused_ones_never_again() -> None:
    poller = Poller(0.0)
    asked = []
    now = 0.0
    while now < 10.0:
        request = poller.take(now)
        if request is not None:
            asked.append(request["execute"])
            poller.answered(request["execute"], now, running=False,
                            refused=request["execute"] == "query-dump")
        now += 0.05
    assert asked.count("query-dump") == 1
    assert asked.count("query-jobs") == 2 and asked.count("query-migrate") == 2


class FakeScreen:
    def __init__(self) -> None:
        self.written: list[str] = []

    def terminal(self, shares: bool = True) -> Terminal:
        return Terminal(write=self.written.append, columns=lambda: 100,
                        shares_output=shares)


def test_progress_view_folds_chatter_and_ends_with_the_summary() -> None:
    screen = FakeScreen()
    clock = [100.0]
    created = event("JOB_STATUS_CHANGE", 99.0, status="created", id="j0")
    view = ProgressView(screen.terminal(), about_work=True, seen=[created],
                        clock=lambda: clock[0])
    request = view.take()
    assert request == {"execute": "query-jobs"}
    view.answered(request, {"return": mirror(64)})
    assert view.take() is None  # the next one waits its turn
    assert view.event(event("JOB_STATUS_CHANGE", 100.1, status="running", id="j0"))
    clock[0] = 103.0
    assert not view.event(event("BLOCK_JOB_READY", 103.0, device="j0", len=256 * MiB,
                                offset=256 * MiB, speed=0, type="mirror"))
    view.finish()
    assert screen.written[0] == "mirror j0 running  [#####...............]   25%  64 MiB / 256 MiB"
    assert screen.written[-1] == "\r\x1b[J" + "mirror j0: ready, 256 MiB in 4.0 s, 64 MiB/s\n"


def test_chatter_is_printed_when_output_goes_elsewhere() -> None:
    screen = FakeScreen()
    view = ProgressView(screen.terminal(shares=False), about_work=True)
    assert not view.event(event("JOB_STATUS_CHANGE", 1.0, status="running", id="j0"))


def test_a_dump_is_asked_about_first_and_summed_up() -> None:
    screen = FakeScreen()
    clock = [10.0]
    view = ProgressView(screen.terminal(), about_work=True, event="DUMP_COMPLETED",
                        clock=lambda: clock[0])
    request = view.take()
    assert request == {"execute": "query-dump"}
    view.answered(request, {"return": {"status": "active", "completed": 16 * MiB,
                                       "total": 64 * MiB}})
    clock[0] = 11.0
    view.event(event("DUMP_COMPLETED", 11.0, result={
        "status": "completed", "completed": 64 * MiB, "total": 64 * MiB}))
    view.finish()
    assert screen.written[0].startswith("dump active  [#####")
    assert screen.written[-1].endswith("dump: completed, 48 MiB in 1.0 s, 48 MiB/s\n")


def test_a_wait_for_other_events_looks_once_for_running_work() -> None:
    view = ProgressView(FakeScreen().terminal(), about_work=False, clock=lambda: 5.0)
    asked = []
    while (request := view.take()) is not None:
        asked.append(request["execute"])
        view.answered(request, {"return": [] if request["execute"] == "query-jobs" else {}})
        view.clock = lambda: 6.0
    assert asked == ["query-jobs", "query-migrate"]
    assert view.seconds_to_next() is not None and view.seconds_to_next() > 1000


# -- drawing in place ---------------------------------------------------------------------

def test_live_area_erases_what_it_drew_before_drawing_again() -> None:
    screen = FakeScreen()
    area = LiveArea(screen.terminal())
    area.draw(["one", "two"])
    area.draw(["three"])
    area.clear()
    area.clear()
    area.finish(["done"])
    assert screen.written == ["one\ntwo", "\r\x1b[A\x1b[Jthree", "\r\x1b[J", "done\n"]


def test_lines_are_appended_plainly_off_a_terminal() -> None:
    written: list[str] = []
    area = LiveArea(Terminal(write=written.append, in_place=False))
    area.draw(["one", "two"])
    area.draw(["three"])
    area.clear()
    area.finish(["done"])
    assert "".join(written) == "one\ntwo\nthree\ndone\n"


def test_lines_are_cut_to_the_width_with_highlights_kept_whole() -> None:
    assert fit("abcdef", 4) == "abcd"
    assert fit("ab\x1b[7mcdef\x1b[27m", 4) == "ab\x1b[7mcd\x1b[27m\x1b[0m"


def test_a_changed_value_is_highlighted_not_its_line() -> None:
    before = ['{', '  "status": "running",', '  "running": true', '}']
    after = ['{', '  "status": "paused",', '  "running": false', '}']
    assert mark_changes(before, after, "<", ">") == [
        '{', '  "status": "<paused>",', '  "running": <false>', '}']
    assert mark_changes(["a"], ["a", "b"], "<", ">") == ["a", "<b>"]
    assert mark_changes(["a  12345"], ["a  12399"], "<", ">") == ["a  <12399>"]


# -- the dot-commands' arguments -------------------------------------------------------------

def test_watch_takes_its_options_from_the_end() -> None:
    spec = parse_watch("query-status every=0.2 count=5")
    assert (spec.line, spec.every, spec.count, spec.timeout) == ("query-status", 0.2, 5, None)
    spec = parse_watch("qom-get path=/machine property=type")
    assert (spec.line, spec.every, spec.count) == ("qom-get path=/machine property=type", 1.0,
                                                   None)
    assert parse_watch("query-jobs timeout=3").timeout == 3.0


@pytest.mark.parametrize(("rest", "message"), [
    ("", "needs a query"), ("query-status count=0", "positive whole number"),
    ("query-status every=0", "at least 0.1"), (".jobs", "not a dot-command"),
    ("query-status every=1 every=2", "given twice")])
def test_watch_mistakes_are_one_line_errors(rest: str, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        parse_watch(rest)


def test_format_takes_table_or_json() -> None:
    assert parse_format("") is None and parse_format("table") == "table"
    with pytest.raises(ParseError, match="table or json"):
        parse_format("yaml")
