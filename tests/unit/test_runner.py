"""The runner over a fake connection: no QEMU, no socket, no loop."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from qmpshell.errors import CommandTimeout, ConnectError, QmpShellError
from qmpshell.runner.pipeline import Runner
from qmpshell.schema.table import load_bundled_schema
from qmpshell.settings import Settings
from qmpshell.shorthand.parser import ShorthandParser
from qmpshell.wire.connection import Interrupted, QmpConnection, Reply

SCHEMA = load_bundled_schema()

Answer = Callable[[dict[str, Any]], dict[str, Any]]


class FakeConnection:
    """Answers requests from a function, with events queued by the test (each
    event arrives just before the next reply, or when waited for)."""

    def __init__(self, answer: Answer | None = None) -> None:
        self.name = "fake"
        self.greeting: dict[str, Any] | None = {"QMP": {"version": {}, "capabilities": []}}
        self.sent: list[dict[str, Any]] = []
        self.answer = answer or (lambda request: {"return": {}})
        self.incoming: list[dict[str, Any]] = []  # events still to arrive
        self.events: list[tuple[int, dict[str, Any]]] = []
        self.seq = 0
        self.lost: str | None = None
        self.interrupted = False

    @property
    def connected(self) -> bool:
        return self.lost is None

    def _arrive(self) -> None:
        for event in self.incoming:
            self.seq += 1
            self.events.append((self.seq, event))
        self.incoming = []

    def execute(self, request: dict[str, Any], timeout: float | None = None) -> Reply:
        if self.lost is not None:
            raise ConnectError(f"connection lost: {self.lost}")
        self.sent.append(request)
        self._arrive()
        message = self.answer(request)
        self.seq += 1
        return Reply(message, self.seq)

    def take_events(self, before: int | None = None) -> list[dict[str, Any]]:
        taken = [e for s, e in self.events if before is None or s < before]
        self.events = [(s, e) for s, e in self.events if not (before is None or s < before)]
        return taken

    def wait_events(self, timeout: float | None = None) -> bool:
        if self.interrupted:
            raise Interrupted("interrupted")
        self._arrive()
        return bool(self.events)

    def lost_reason(self) -> str | None:
        return self.lost

    def interrupt(self) -> None:
        self.interrupted = True

    def close(self) -> None:
        self.lost = "the connection was closed"


class Sinks:
    def __init__(self) -> None:
        self.out: list[str] = []
        self.errors: list[tuple[str, str | None]] = []

    def report(self, error: QmpShellError, where: str | None) -> None:
        self.errors.append((str(error), where))


def runner_for(conn: FakeConnection | None, **settings: Any) -> tuple[Runner, Sinks]:
    sinks = Sinks()
    connection: QmpConnection | None = conn
    runner = Runner(Settings(**settings), parser=ShorthandParser(SCHEMA, allow_unknown=True),
                    schema=SCHEMA, connection=connection, out=sinks.out.append,
                    report=sinks.report, wait_timeout=0.01)
    return runner, sinks


def test_a_line_becomes_a_request_and_its_reply_is_printed() -> None:
    conn = FakeConnection(lambda r: {"return": {"status": "running"}})
    runner, sinks = runner_for(conn)
    assert runner.run_line("query-status", "f:1")
    assert conn.sent == [{"execute": "query-status"}]
    assert [json.loads(o) for o in sinks.out] == [{"return": {"status": "running"}}]


def test_events_print_in_arrival_order_around_the_reply() -> None:
    conn = FakeConnection()
    runner, sinks = runner_for(conn)
    conn.incoming = [{"event": "STOP"}]
    runner.run_line("stop", None)
    assert [json.loads(o).get("event", "reply") for o in sinks.out] == ["STOP", "reply"]


def test_an_error_reply_fails_the_line_and_minus_e_stops() -> None:
    conn = FakeConnection(lambda r: {"error": {"class": "GenericError", "desc": "no"}}
                          if r["execute"] == "stop" else {"return": {}})
    runner, sinks = runner_for(conn, exit_on_error=True)
    runner.run_lines(["query-status", "stop", "cont"], "s")
    assert [r["execute"] for r in conn.sent] == ["query-status", "stop"]
    assert runner.failed and runner.stopped
    assert sinks.errors == [("GenericError: no", "s:2")]


def test_wait_matches_an_event_and_times_out_with_a_sentence() -> None:
    conn = FakeConnection()
    runner, sinks = runner_for(conn)
    conn.incoming = [{"event": "BLOCK_JOB_COMPLETED", "data": {"device": "j0"}}]
    assert runner.run_line(".wait BLOCK_JOB_COMPLETED device=j0", "w:1")
    assert not runner.run_line(".wait STOP timeout=0.01", "w:2")
    assert sinks.errors == [("no STOP event within 0.01 s", "w:2")]


def test_a_lost_connection_propagates_with_the_line() -> None:
    conn = FakeConnection()
    conn.lost = "the server closed the connection"
    runner, _ = runner_for(conn)
    with pytest.raises(ConnectError, match="connection lost: the server closed"):
        runner.run_line("query-status", "x:7")
    assert runner.where == "x:7"


def test_a_timeout_propagates() -> None:
    def slow(request: dict[str, Any]) -> dict[str, Any]:
        raise CommandTimeout("no reply to query-status within 60 s")
    runner, _ = runner_for(FakeConnection(slow))
    with pytest.raises(CommandTimeout):
        runner.run_line("query-status", None)


def test_interrupt_ends_a_wait() -> None:
    conn = FakeConnection()
    runner, sinks = runner_for(conn)
    conn.interrupt()
    with pytest.raises(Interrupted):
        runner.run_line(".wait STOP timeout=30", None)
    assert sinks.errors == []


def test_hmp_lines_and_schema_save(tmp_path: Any) -> None:
    conn = FakeConnection(lambda r: {"return": "VM status: running\r\n"}
                          if r["execute"] == "human-monitor-command" else {"return": []})
    runner, sinks = runner_for(conn)
    assert runner.run_line(".hmp info status", None)
    assert conn.sent[-1] == {"execute": "human-monitor-command",
                             "arguments": {"command-line": "info status"}}
    assert "VM status: running" in sinks.out[-1]
    assert runner.run_line(f".schema save {tmp_path / 's.json'}", None)
    assert conn.sent[-1] == {"execute": "query-qmp-schema"}


def test_events_that_came_while_idle_are_drained() -> None:
    conn = FakeConnection()
    runner, sinks = runner_for(conn)
    conn.incoming = [{"event": "RESUME"}]
    assert conn.wait_events(0)
    runner.drain_events()
    assert [json.loads(o)["event"] for o in sinks.out] == ["RESUME"]


def test_dry_run_needs_no_connection() -> None:
    runner, sinks = runner_for(None)
    assert runner.run_line("stop", None)
    assert sinks.out == ['{"execute": "stop"}']


# -- confirmation: once, on what is about to be sent ----------------------------

class Person:
    """Answers the runner's questions, keeping them."""

    def __init__(self, *answers: bool) -> None:
        self.answers = list(answers)
        self.asked: list[str] = []

    def __call__(self, question: str) -> bool:
        self.asked.append(question)
        return self.answers.pop(0)


def test_a_transaction_typed_over_lines_is_asked_about_when_it_closes() -> None:
    conn = FakeConnection()
    runner, sinks = runner_for(conn)
    notes: list[str] = []
    runner.notice = notes.append
    person = Person(False)
    for line in ("transaction(", "drive-backup device=d target=/t sync=full", ")"):
        assert runner.run_line(line, None, ask=person)
        if line != ")":
            assert person.asked == []  # nothing to ask about until ')' closes it
    assert person.asked == ["transaction: drive-backup: this overwrites the target image. "
                            "Run it? [y/N] "]
    assert conn.sent == [] and notes == ["not run"] and not runner.in_transaction
    assert not runner.failed and sinks.errors == []
    person = Person(True)
    for line in ("transaction(", "drive-backup device=d target=/t sync=full", ")"):
        runner.run_line(line, None, ask=person)
    assert [r["execute"] for r in conn.sent] == ["transaction"] and len(person.asked) == 1


def test_one_line_and_hmp_are_asked_about_too_and_harmless_lines_are_not() -> None:
    conn = FakeConnection()
    runner, _ = runner_for(conn)
    person = Person(False, False, False)
    runner.run_line("transaction( drive-backup device=d target=/t sync=full )", None,
                    ask=person)
    runner.run_line(".hmp system_reset", None, ask=person)
    runner.run_line("quit", None, ask=person)
    runner.run_line("query-status", None, ask=person)
    assert len(person.asked) == 3 and conn.sent == [{"execute": "query-status"}]


def test_scripts_and_yes_are_not_asked() -> None:
    conn = FakeConnection()
    runner, _ = runner_for(conn)
    runner.run_lines(["system_reset"], "s")  # a script: nobody to ask
    runner, _ = runner_for(conn, yes=True)
    person = Person()
    runner.run_line("system_reset", None, ask=person)
    assert person.asked == [] and [r["execute"] for r in conn.sent] == ["system_reset"] * 2


# -- dot-commands: the registry's, carried out here or at the prompt --------------

def test_every_script_dot_command_has_a_handler_and_prompt_ones_say_so() -> None:
    from qmpshell.shorthand.dotcommands import DOT_COMMANDS

    runner, sinks = runner_for(FakeConnection())
    assert set(runner._dot_handlers) == {d.name for d in DOT_COMMANDS if d.in_scripts}
    assert not runner.run_line(".pager on", "s:1")
    assert not runner.run_line(".conect /tmp/x", "s:2")
    assert sinks.errors == [(".pager works at the prompt only", "s:1"),
                            ("column 1: unknown dot-command .conect (did you mean .connect?)",
                             "s:2")]


def test_a_line_for_several_vms_is_asked_about_once() -> None:
    one, two = FakeConnection(), FakeConnection()
    runner, _ = runner_for(one)
    runner.attach("two", two)
    notes: list[str] = []
    runner.notice = notes.append
    person = Person(False, True)
    assert runner.run_line("@all system_reset", None, ask=person)
    assert one.sent == [] and two.sent == [] and notes == ["not run"]
    runner.run_line("@all system_reset", None, ask=person)
    assert [len(c.sent) for c in (one, two)] == [1, 1]
    assert len(person.asked) == 2 and "(on fake, two). Run it?" in person.asked[0]
    runner.run_line("@all query-status", None, ask=person)
    assert len(person.asked) == 2
