"""Tables for the replies operators read most, checked as text against
replies captured from QEMU 7.2 (tests/fixtures) and made-up ones."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from qmpshell.runner import units
from qmpshell.runner.tables import has_table, render_table, table_for

FIXTURES = Path(__file__).parents[1] / "fixtures"


def capture(name: str) -> dict[str, Any]:
    reply: dict[str, Any] = json.loads((FIXTURES / name).read_text())
    return reply


def test_query_block_is_one_row_per_drive_with_its_size_in_mib() -> None:
    text = table_for("query-block", capture("qemu-7.2-q35-query-block.json"))
    assert text == (
        "DEVICE   NODE       DRIVER    SIZE  MODE  FILE\n"
        "scratch  #block111  qcow2   64 MiB  rw    /tmp/qmpb-zs7mvmw7/scratch.qcow2")


def test_query_block_shows_an_empty_drive() -> None:
    reply = {"return": [{"device": "cd0", "locked": False, "removable": True,
                         "type": "unknown"}]}
    assert table_for("query-block", reply) == (
        "DEVICE  NODE  DRIVER   SIZE  MODE  FILE\n"
        "cd0     -     (empty)     -  -     -")


def test_query_jobs_shows_how_far_the_mirror_is() -> None:
    text = table_for("query-jobs", capture("qemu-7.2-query-jobs-mirror-running.json"))
    assert text == (
        "ID  TYPE    STATUS   DONE  COPIED    TOTAL\n"
        "j0  mirror  running   25%  64 MiB  256 MiB")


def test_query_jobs_has_an_error_column_only_when_a_job_failed() -> None:
    reply = {"return": [
        {"id": "j0", "type": "backup", "status": "concluded", "current-progress": 10,
         "total-progress": 100, "error": "No space left on device"},
        {"id": "j1", "type": "mirror", "status": "ready", "current-progress": 100,
         "total-progress": 100}]}
    assert table_for("query-jobs", reply) == (
        "ID  TYPE    STATUS     DONE  COPIED  TOTAL  ERROR\n"
        "j0  backup  concluded   10%    10 B  100 B  No space left on device\n"
        "j1  mirror  ready      100%   100 B  100 B  -")


def test_query_block_jobs_shows_the_speed_limit() -> None:
    text = table_for("query-block-jobs",
                     capture("qemu-7.2-query-block-jobs-mirror-running.json"))
    assert text == (
        "ID  TYPE    STATUS   DONE  COPIED    TOTAL     SPEED\n"
        "j0  mirror  running   25%  64 MiB  256 MiB  50 MiB/s")


def test_no_jobs_says_so() -> None:
    assert table_for("query-jobs", {"return": []}) == "no jobs"


def test_query_migrate_is_a_list_of_fields() -> None:
    text = table_for("query-migrate", capture("qemu-7.2-query-migrate-active.json"))
    assert text == (
        "status             active\n"
        "migrated           41% (52.5 MiB of 129 MiB)\n"
        "transferred        51.9 MiB\n"
        "remaining          76 MiB\n"
        "rate               40 MiB/s\n"
        "passes             1\n"
        "expected downtime  100 ms\n"
        "time               1.2 s\n"
        "setup time         0 ms")
    assert table_for("query-migrate", {"return": {}}) == "no migration"


def test_other_captured_replies() -> None:
    nodes = table_for("query-named-block-nodes",
                      capture("qemu-7.2-query-named-block-nodes.json"))
    assert nodes is not None and nodes.splitlines()[1:] == [
        "#block182  qcow2   256 MiB  rw    src.qcow2",
        "#block089  file    200 MiB  rw    src.qcow2"]
    cpus = table_for("query-cpus-fast", capture("qemu-7.2-q35-query-cpus-fast.json"))
    assert cpus is not None and cpus.splitlines()[1].split() == [
        "0", "s0", "c0", "t0", "15798", "x86_64", "/machine/unattached/device[0]"]
    chardevs = table_for("query-chardev", capture("qemu-7.2-query-chardev.json"))
    assert chardevs is not None and chardevs.splitlines() == [
        "LABEL            FRONTEND  FILENAME",
        "nul0             closed    null",
        "compat_monitor0  open      unix:a.sock,server=on"]
    qom = table_for("qom-list", capture("qemu-7.2-q35-qom-list-machine.json"))
    assert qom is not None and qom.splitlines()[1].split() == ["type", "string"]


def test_errors_and_other_commands_stay_json() -> None:
    assert table_for("query-block", {"error": {"class": "GenericError", "desc": "x"}}) is None
    assert table_for("query-status", {"return": {"running": True}}) is None
    assert table_for("query-block", {"return": "unexpected"}) is None
    assert not has_table("query-status") and has_table("query-block")


def test_control_characters_from_the_server_are_shown_not_obeyed() -> None:
    reply = {"return": [{"name": "evil\x1b]0;owned\x07", "type": "string"}]}
    text = table_for("qom-list", reply)
    assert text is not None and "\x1b" not in text and "^[]0;owned^G" in text


def test_numbers_align_right_and_headers_are_bold_with_colour() -> None:
    text = render_table(["NAME", "SIZE"], [["a", "1 B"], ["bb", "10 MiB"]],
                        right=[False, True], color=True)
    assert text.splitlines() == ["\x1b[1mNAME    SIZE\x1b[0m", "a        1 B", "bb    10 MiB"]


@pytest.mark.parametrize(("count", "text"), [
    (0, "0 B"), (512, "512 B"), (1536, "1.5 KiB"), (268435456, "256 MiB"),
    (65011712, "62 MiB"), (134750208, "129 MiB"), (54445355, "51.9 MiB"),
    (3 * 2**40, "3 TiB")])
def test_sizes(count: int, text: str) -> None:
    assert units.size(count) == text


@pytest.mark.parametrize(("seconds", "text"), [
    (4.13, "4.1 s"), (42, "42 s"), (75, "1 min 15 s"), (7300, "2 h 01 min")])
def test_durations(seconds: float, text: str) -> None:
    assert units.duration(seconds) == text
