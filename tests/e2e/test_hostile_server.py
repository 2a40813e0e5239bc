"""A hostile server: every case ends with at most one line on stderr and the
documented exit status (0 ok, 1 a line failed, 3 connection trouble), never
a traceback, never a hang, and nothing from the server drives the terminal.

The server is a fake one (tests/helpers/hostile_server.py): these are the
replies, events and greetings a real QEMU will not send on demand (a real
QEMU with an escape-laden name is in test_hostile_text.py)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from helpers.hostile_server import GREETING, HostileServer, line, ok, reply
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

ESC = "\x1b]0;PWNED\x07\x1b]52;c;ZWNobyBQV05FRA==\x07\x1b[2J\x9b31m"
HANG = 30
"""Seconds after which a run counts as hung (every case sets --timeout 2)."""


def deep(depth: int) -> bytes:
    """A JSON value nested ``depth`` levels, as text (json.dumps would not go there)."""
    return b"[" * depth + b"1" + b"]" * depth


def raw_reply(request: dict[str, Any], value: bytes) -> bytes:
    return b'{"return": ' + value + b', "id": ' + json.dumps(request.get("id")).encode() \
        + b"}\r\n"


def raw_event(data: bytes) -> bytes:
    return b'{"event": "X", "data": ' + data + b"}\r\n"


def on(command: str, then: Callable[[dict[str, Any]], bytes | None]) -> Callable[
        [dict[str, Any]], bytes | None]:
    """Behave as ``then`` for ``command``, answer everything else normally."""
    def answer(request: dict[str, Any]) -> bytes | None:
        return then(request) if request.get("execute") == command else ok(request)
    return answer


def greeting(value: Any) -> bytes:
    return line(value)


@dataclass(frozen=True)
class Case:
    name: str
    statuses: frozenset[int]
    args: tuple[str, ...] = ("-c", "query-status")
    greeting: bytes | None = None
    answer: Callable[[dict[str, Any]], bytes | None] = ok
    says: str = ""
    """Text the one stderr line must hold (empty: anything, or nothing)."""
    extra: tuple[str, ...] = field(default=())


def event(name: Any, data: Any = None) -> bytes:
    message: dict[str, Any] = {"event": name, "timestamp": {"seconds": 1, "microseconds": 0}}
    if data is not None:
        message["data"] = data
    return line(message)


OK, FAILED, LOST = frozenset({0}), frozenset({1}), frozenset({3})

CASES = [
    # -- escape injection -------------------------------------------------------
    Case("escape in an error", FAILED, answer=on("query-status", lambda r: reply(
        r, error={"class": f"GenericError{ESC}", "desc": f"no {ESC} here"}) .replace(
        b'"return": {}, ', b""))),
    Case("escape in an event name and data", OK, answer=on("query-status", lambda r: event(
        f"STOP{ESC}", {"why": ESC}) + reply(r))),
    Case("escape in an event name, pretty", OK, extra=("--pretty",),
         answer=on("query-status", lambda r: event(f"STOP{ESC}", {"why": ESC}) + reply(r))),
    Case("escape in HMP text", OK, args=("--pretty", "-c", ".hmp info name"),
         answer=on("human-monitor-command", lambda r: reply(r, f"{ESC}name\r\n"))),
    Case("escape in the greeting's package", OK, args=("-c", ".schema"),
         greeting=greeting({"QMP": {"version": {"qemu": {"major": 7, "minor": 2, "micro": 0},
                                                "package": ESC}, "capabilities": []}})),
    Case("escape in a reply's keys, pretty", OK, extra=("--pretty",),
         answer=on("query-status", lambda r: reply(r, {ESC: ESC}))),
    # -- deep JSON ---------------------------------------------------------------
    Case("a reply 1000 levels deep", LOST, says="nested deeper",
         answer=on("query-status", lambda r: raw_reply(r, deep(1000)))),
    Case("a reply 100000 levels deep", LOST, says="nested deeper",
         answer=on("query-status", lambda r: raw_reply(r, deep(100_000)))),
    Case("an event 990 levels deep", LOST, says="nested deeper",
         answer=on("query-status", lambda r: raw_event(deep(990)) + reply(r))),
    Case("an event 600 levels deep, logged", LOST, says="nested deeper", extra=("-l", "LOG"),
         answer=on("query-status", lambda r: raw_event(deep(600)) + reply(r))),
    Case("a reply 200 levels deep, logged and recorded", OK,
         extra=("-l", "LOG", "--record", "REC", "--pretty", "-v"),
         answer=on("query-status", lambda r: raw_reply(r, deep(200)))),
    # -- odd greetings -------------------------------------------------------------
    *[Case(f"greeting {label}", frozenset({0, 3}), greeting=greeting(value)) for label, value in (
        ("capabilities an integer", {"QMP": {**GREETING["QMP"], "capabilities": 5}}),
        ("capabilities of integers", {"QMP": {**GREETING["QMP"], "capabilities": [1, 2]}}),
        ("version a string", {"QMP": {"version": "7.2", "capabilities": []}}),
        ("qemu version a list", {"QMP": {"version": {"qemu": []}, "capabilities": []}}),
        ("version numbers of strings", {"QMP": {"version": {"qemu": {"major": "x"}},
                                                "capabilities": []}}),
        ("QMP a list", {"QMP": []}),
        ("a list", []),
        ("a string", "hello"),
        ("an empty object", {}),
    )],
    Case("greeting nested too deeply", LOST, greeting=b'{"QMP": ' + deep(5000) + b"}\r\n"),
    Case("greeting not JSON", LOST, greeting=b"\x1b]0;PWNED\x07 Welcome\r\n"),
    Case("greeting invalid UTF-8", LOST, greeting=b'{"QMP": "\xff\xfe"}\r\n'),
    Case("no greeting at all", LOST, greeting=b" "),
    # -- replies that do not fit -------------------------------------------------------
    Case("a reply that is a list", LOST, answer=on("query-status", lambda r: b"[1, 2]\r\n")),
    Case("a reply that is garbage", LOST, answer=on("query-status", lambda r: b"{nope\r\n")),
    Case("an error that is a string", frozenset({0, 1, 3}),
         answer=on("query-status", lambda r: line({"error": ESC, "id": r.get("id")}))),
    Case("an event name that is an object", frozenset({0, 3}), extra=("--pretty",),
         answer=on("query-status", lambda r: event({"x": ESC}) + reply(r))),
    Case("an event time out of range", frozenset({0, 3}), extra=("--pretty",),
         answer=on("query-status", lambda r: line(
             {"event": "X", "timestamp": {"seconds": 10**30, "microseconds": "x"}})
             + reply(r))),
    # -- stalls and wrong ids ---------------------------------------------------------
    Case("a server that never answers", LOST, answer=on("query-status", lambda r: None)),
    Case("a greeting that never comes", LOST, greeting=b""),
    Case("a reply with a wrong id", frozenset({1, 3}),
         answer=on("query-status", lambda r: line({"return": {}, "id": "not-yours"}))),
    Case("a reply with an id of another type", frozenset({1, 3}),
         answer=on("query-status", lambda r: line({"return": {}, "id": [r.get("id")]}))),
    # -- floods ---------------------------------------------------------------------
    Case("5,000 events before a reply", OK,
         answer=on("query-status", lambda r: b"".join(event("BLOCK_IO_ERROR", {"n": i})
                                                       for i in range(5000)) + reply(r))),
]


def run_case(case: Case, tmp_path: Path) -> tuple[subprocess.CompletedProcess[bytes], Path]:
    workdir = tmp_path / "case"
    workdir.mkdir()
    env = {**os.environ, "XDG_CACHE_HOME": str(workdir / "cache"),
           "XDG_CONFIG_HOME": str(workdir / "config"), "XDG_STATE_HOME": str(workdir / "state")}
    env.pop("NO_COLOR", None)
    extra = [str(workdir / a) if a in ("LOG", "REC") else a for a in case.extra]
    with HostileServer(workdir, greeting=case.greeting, answer=case.answer) as server:
        done = subprocess.run([sys.executable, "-m", "qmpshell", server.address,
                               "--timeout", "2", "--color", "always", *extra, *case.args],
                              capture_output=True, timeout=HANG, env=env,
                              stdin=subprocess.DEVNULL)
    return done, workdir


def check(case: Case, done: subprocess.CompletedProcess[bytes]) -> None:
    err = done.stderr.decode("utf-8", "replace")
    out = done.stdout.decode("utf-8", "replace")
    assert done.returncode in case.statuses, (done.returncode, err[-2000:])
    assert "Traceback" not in err and "Traceback" not in out
    lines = err.splitlines()
    assert all(re.match(r"^\S+: (error|warning): ", text) for text in lines), err[-2000:]
    assert sum(": error: " in text for text in lines) <= 1, err[-2000:]
    if case.says:
        assert case.says in err, err
    for text in (out, err):  # colour codes are ours; nothing else starts with ESC
        stripped = re.sub(r"\x1b\[[0-9;]*m", "", text)
        assert "\x1b" not in stripped and "\x07" not in text and "\x9b" not in text


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_a_hostile_server_ends_in_one_line(case: Case, tmp_path: Path) -> None:
    done, workdir = run_case(case, tmp_path)
    check(case, done)
    for name in ("LOG", "REC"):
        if name in case.extra:
            path = workdir / name
            if path.exists():
                text = path.read_text()
                assert "\x1b" not in text or name == "REC"  # JSON lines are escaped
                if name == "LOG":
                    for entry in text.splitlines():
                        json.loads(entry)


# -- generated hostile servers -----------------------------------------------------

HOSTILE_STRINGS = st.one_of(
    st.sampled_from([ESC, "\x1b[2J", "\x07", "\x9b", "\u202e", "\x00", "\udcff"[:0], "\r"]),
    st.text(max_size=30))
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | HOSTILE_STRINGS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(HOSTILE_STRINGS, inner,
                                                                max_size=4),
    max_leaves=20)


@st.composite
def hostile_answers(draw: st.DrawFn) -> bytes:
    """What a hostile server says to query-status: a reply, an error, events,
    nesting, bytes that are not JSON, ids that answer nothing."""
    kind = draw(st.sampled_from(["reply", "error", "events", "nested", "bytes", "id"]))
    ident = json.dumps(draw(st.sampled_from(["ID", "x", 0, None, [1]])))
    if kind == "reply":
        body = json.dumps({"return": draw(JSON_VALUES)})
    elif kind == "error":
        body = json.dumps({"error": draw(JSON_VALUES | st.fixed_dictionaries(
            {"class": HOSTILE_STRINGS, "desc": HOSTILE_STRINGS}))})
    elif kind == "events":
        count = draw(st.integers(0, 3000))
        name = draw(HOSTILE_STRINGS | JSON_VALUES)
        events = b"".join(line({"event": name, "data": {"n": i}}) for i in range(count))
        return events + b'{"return": {}, "id": ID}\r\n'
    elif kind == "nested":
        depth = draw(st.integers(0, 3000))
        return b'{"return": ' + deep(depth) + b', "id": ID}\r\n'
    elif kind == "bytes":
        return draw(st.binary(max_size=200)) + b"\r\n"
    else:
        return json.dumps({"return": {}, "id": json.loads(ident)}).encode() + b"\r\n"
    return body[:-1].encode() + b', "id": ID}\r\n'


FUZZ = {"servers": 0, "survived": 0}


@pytest.mark.timeout(900)  # each example is a whole shell process: ~1 s on a busy machine
@given(answer=hostile_answers())
@settings(max_examples=max(5, settings.default.max_examples // 20), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
def test_generated_hostile_servers_end_in_one_line(answer: bytes, tmp_path: Path) -> None:
    FUZZ["servers"] += 1
    case = Case("generated", frozenset({0, 1, 3}), answer=on("query-status", lambda r: (
        answer.replace(b"ID", json.dumps(r.get("id")).encode()))))
    target = tmp_path / f"g{FUZZ['servers']}"
    target.mkdir()
    done, _ = run_case(case, target)
    check(case, done)
    FUZZ["survived"] += 1
