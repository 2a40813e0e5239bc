"""Events at the prompt: shown one by one at a reading pace, folded past it
with one line per event name, kept for .events; nothing is lost silently."""

from __future__ import annotations

from qmpshell.runner.eventpace import BURST, READABLE, EventPacer, fold_note


def ev(name: str, n: int = 0) -> dict[str, object]:
    return {"event": name, "data": {"n": n}}


def test_a_quiet_stream_is_shown_whole() -> None:
    pacer = EventPacer()
    for i in range(200):
        pacer.add(ev("STOP", i), now=i * 0.1)  # ten a second: below the pace
    frame = pacer.frame(now=20.0)
    assert len(frame.events) == 200 and frame.notes == []


def test_a_flood_is_folded_with_one_line_per_name_per_second() -> None:
    pacer = EventPacer()
    for i in range(100_000):
        pacer.add(ev("BLOCK_IO_ERROR" if i % 10 else "STOP", i), now=i / 100_000)
    frame = pacer.frame(now=1.0)
    shown = len(frame.events)
    assert BURST <= shown <= BURST + READABLE + 1
    assert sorted(frame.notes) == sorted([
        fold_note("BLOCK_IO_ERROR", sum(1 for i in range(100_000) if i % 10) -
                  sum(1 for e in frame.events if e["event"] == "BLOCK_IO_ERROR")),
        fold_note("STOP", 10_000 - sum(1 for e in frame.events if e["event"] == "STOP"))])
    assert pacer.frame(now=1.5).notes == []  # at most once a second
    assert pacer.folded_total == 100_000 - shown


def test_the_note_reads_as_the_issue_says() -> None:
    assert fold_note("BLOCK_IO_ERROR", 9400) == \
        "… 9,400 BLOCK_IO_ERROR events folded; .events shows them"
    assert fold_note("STOP", 1) == "… 1 STOP event folded; .events shows them"


def test_folded_events_are_kept_for_dot_events_and_say_what_was_not_kept() -> None:
    pacer = EventPacer(keep=1000)
    for i in range(5000):
        pacer.add(ev("X", i), now=0.0)
    kept, not_kept = pacer.take_folded()
    assert len(kept) == 1000 and kept[-1]["data"] == {"n": 4999}
    assert not_kept == 5000 - BURST - 1000
    assert pacer.take_folded() == ([], 0)


def test_the_pace_comes_back_after_a_quiet_spell() -> None:
    pacer = EventPacer()
    for i in range(1000):
        pacer.add(ev("X", i), now=0.0)
    pacer.frame(now=0.0)
    pacer.add(ev("Y"), now=10.0)
    assert pacer.frame(now=10.0).events == [ev("Y")]


def test_odd_event_names_are_counted_under_a_question_mark() -> None:
    pacer = EventPacer(burst=0)
    pacer.add({"event": {"x": 1}}, now=0.0)
    assert pacer.flush_notes() == [fold_note("?", 1)]
