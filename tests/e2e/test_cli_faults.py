"""Broken servers end a run with one clear line and the right exit status:
never a traceback, never a hang."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import pytest
from helpers.cli import qmpshell
from helpers.fake_agent import FakeAgent
from helpers.fake_server import (
    GREETING,
    FakeQMP,
    bytewise,
    close_mid_reply,
    deep,
    garbage,
    huge,
    never,
    wrong_id,
)


def run_against(tmp_path: Path, *args: str, greeting: str | dict[str, Any] = "normal",
                behaviours: dict[str, Any] | None = None, tcp: bool = False) -> Any:
    with FakeQMP(tmp_path, greeting=greeting, behaviours=behaviours, tcp=tcp) as server:
        return qmpshell(server.address, *args, timeout=60)


def assert_clean(r: Any, status: int, message: str) -> None:
    assert r.returncode == status, r.stderr
    assert message in r.stderr
    assert "Traceback" not in r.stderr
    assert len(r.stderr.splitlines()) == 1


def test_no_greeting(tmp_path: Path) -> None:
    r = run_against(tmp_path, "--timeout", "0.5", "-c", "query-status", greeting="silent")
    assert_clean(r, 3, "no greeting within 0.5 s")


def test_hang_up_instead_of_greeting(tmp_path: Path) -> None:
    r = run_against(tmp_path, "-c", "query-status", greeting="close")
    assert_clean(r, 3, "closed the connection before greeting")


def test_garbage_greeting(tmp_path: Path) -> None:
    r = run_against(tmp_path, "-c", "query-status", greeting="garbage")
    assert_clean(r, 3, "did not understand the server's greeting")


def test_garbage_reply(tmp_path: Path) -> None:
    r = run_against(tmp_path, "-c", "query-status", "-c", ".echo not reached",
                    behaviours={"query-status": garbage})
    assert_clean(r, 3, "<command>:1: error: connection lost: the server sent malformed JSON")
    assert r.stdout == ""


def test_reply_split_into_single_bytes(tmp_path: Path) -> None:
    r = run_against(tmp_path, "-c", "query-status", behaviours={"query-status": bytewise})
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == {"return": {"status": "running", "running": True}}


def test_sixteen_mib_reply(tmp_path: Path) -> None:
    size = 16 * 1024 * 1024
    r = run_against(tmp_path, "-c", "query-status", behaviours={"query-status": huge(size)})
    assert r.returncode == 0, r.stderr
    assert len(json.loads(r.stdout)["return"]) == size


def test_closed_mid_reply(tmp_path: Path) -> None:
    r = run_against(tmp_path, "-c", "query-status", behaviours={"query-status": close_mid_reply})
    assert_clean(r, 3, "connection lost: the server closed the connection in the middle")


def test_server_never_answers(tmp_path: Path) -> None:
    r = run_against(tmp_path, "--timeout", "0.5", "-c", "query-status",
                    behaviours={"query-status": never})
    assert_clean(r, 3, "<command>:1: error: no reply to query-status within 0.5 s")


def test_missing_socket(tmp_path: Path) -> None:
    r = qmpshell(str(tmp_path / "nope.sock"), "-c", "query-status")
    assert_clean(r, 3, "no such socket")


def test_refused_tcp() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    r = qmpshell(f"127.0.0.1:{port}", "-c", "query-status")
    assert_clean(r, 3, "connection refused")


@pytest.mark.parametrize("tcp", [False, True])
def test_agent_mode_against_a_server_without_greeting(tmp_path: Path, tcp: bool) -> None:
    with FakeAgent(tmp_path, tcp=tcp) as agent:
        r = qmpshell(agent.address, "-N", "-c", '{"execute": "guest-ping"}', timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout == '{"return": {}}\n'
    assert [q["execute"] for q in agent.received] == [
        "guest-sync-delimited", "guest-info", "guest-ping"]


def test_agent_mode_against_a_qmp_socket(tmp_path: Path) -> None:
    r = run_against(tmp_path, "-N", "--timeout", "1", "-c", "guest-ping")
    assert_clean(r, 3, "did not answer guest-sync-delimited")


def test_deeply_nested_reply(tmp_path: Path) -> None:
    r = run_against(tmp_path, "-c", "query-status", behaviours={"query-status": deep(100000)})
    assert_clean(r, 3, "<command>:1: error: connection lost: the server sent JSON nested "
                       "deeper than 256 levels")


@pytest.mark.parametrize("field, value, problem", [
    ("capabilities", 5, "capabilities is not a list of names"),
    ("version", "7.2.0", "version is not an object"),
])
def test_odd_greeting_types(tmp_path: Path, field: str, value: Any, problem: str) -> None:
    greeting = {"QMP": {**GREETING["QMP"], field: value}}
    r = run_against(tmp_path, "-c", "query-status", greeting=greeting)
    assert_clean(r, 3, f"did not understand the server's greeting ({problem})")


def test_a_reply_for_no_request_is_reported_once_then_the_timeout_ends_it(
        tmp_path: Path) -> None:
    r = run_against(tmp_path, "--timeout", "0.5", "-c", "query-status",
                    behaviours={"query-status": wrong_id})
    assert r.returncode == 3, r.stderr
    warning, error = r.stderr.splitlines()
    assert warning.startswith('qmpshell: warning: ignored a reply that answers no request (id "')
    assert error == "<command>:1: error: no reply to query-status within 0.5 s"
