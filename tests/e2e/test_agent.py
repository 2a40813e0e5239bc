"""Guest-agent mode (-N, --agent) against a real qemu-ga, standalone on a
private socket with every command that could touch this machine blocked,
and against a fake agent for the reply lost to a timeout."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import isolated_env
from helpers.cli import qmpshell
from helpers.fake_agent import FakeAgent
from helpers.qemu_ga import QemuGA

pexpect = pytest.importorskip("pexpect")

QMPSHELL = Path(sys.executable).parent / "qmpshell"
PROMPT = r"\(QGA\)"
DEADLINE = 20


def shell(address: str, home: Path, *extra: str) -> Any:
    child = pexpect.spawn(str(QMPSHELL), ["-N", *extra, address], env=isolated_env(home),
                          dimensions=(30, 120), encoding="utf-8", timeout=DEADLINE)
    child.expect(PROMPT)
    return child


def quit_shell(child: Any) -> int:
    child.sendcontrol("d")
    child.expect(pexpect.EOF)
    child.close()
    return int(child.exitstatus)


def logged(path: Path, direction: str) -> list[dict[str, Any]]:
    entries = [json.loads(line) for line in path.read_text().splitlines()]
    return [e["message"] for e in entries if e.get("direction") == direction]


def test_prompt_and_completion_from_the_agent_table(qemu_ga: QemuGA, home: Path) -> None:
    child = shell(str(qemu_ga.socket_path), home)
    child.expect(r"Connected to the guest agent 7\.2\.\d+ at ")
    child.send("guest-p")
    child.expect("guest-ping")  # the menu offers it while typing
    child.send("\t\r")
    child.expect(r'"return": \{\}')
    child.expect(PROMPT)
    child.send("guest-info\r")
    child.expect('"version": "7.2')
    child.expect(PROMPT)
    assert quit_shell(child) == 0
    entries = (home / "state" / "qmpshell" / "history").read_text().splitlines()
    assert [e[1:].rstrip() for e in entries if e.startswith("+")] == ["guest-ping", "guest-info"]


def test_help_documents_agent_commands(qemu_ga: QemuGA) -> None:
    run = qmpshell("--agent", "-c", ".help guest-info", str(qemu_ga.socket_path))
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("guest-info - Get some information about the guest agent.")
    assert "Documentation from QEMU 7.2.0." in run.stdout
    listing = qmpshell("-N", "-c", ".help", str(qemu_ga.socket_path))
    assert "guest-ping" in listing.stdout and "query-status" not in listing.stdout
    assert "guest-exec " not in listing.stdout  # disabled in this agent: not offered


def test_arguments_typed_from_the_agent_table(qemu_ga: QemuGA, tmp_path: Path) -> None:
    log = tmp_path / "log.jsonl"
    run = qmpshell("-N", "-v", "--compact", "-l", str(log), "-c", "guest-exec-status pid=1",
                   str(qemu_ga.socket_path))
    sent = [m for m in logged(log, "sent") if m.get("execute") == "guest-exec-status"]
    assert [m["arguments"] for m in sent] == [{"pid": 1}]  # an integer, not "1"
    assert '"arguments": {"pid": 1}' in run.stdout
    assert run.returncode == 1  # the agent ran no process 1 for us
    assert "Invalid parameter 'pid'" in run.stdout


def test_disabled_command_refused_with_why(qemu_ga: QemuGA, tmp_path: Path) -> None:
    log = tmp_path / "log.jsonl"
    run = qmpshell("-N", "-l", str(log), "-c", "guest-exec path=/bin/true",
                   str(qemu_ga.socket_path))
    assert run.returncode == 1
    assert "Command guest-exec has been disabled in this guest agent" in run.stderr
    assert "Traceback" not in run.stderr and len(run.stderr.splitlines()) == 1
    assert not [m for m in logged(log, "sent") if m.get("execute") == "guest-exec"]


def test_resync_after_a_reply_lost_to_a_timeout(tmp_path: Path, home: Path) -> None:
    with FakeAgent(tmp_path, late=frozenset({"guest-get-time"}),
                   replies={"guest-get-time": 1234, "guest-ping": {},
                            "guest-info": {"version": "7.2.0", "supported_commands": [
                                {"name": n, "enabled": True, "success-response": True}
                                for n in ("guest-ping", "guest-get-time", "guest-info",
                                          "guest-sync-delimited")]}}) as agent:
        child = shell(agent.address, home, "--timeout", "1")
        seen = io.StringIO()
        child.logfile_read = seen
        child.send("guest-get-time\r")
        child.expect("no reply")
        child.expect(PROMPT)
        child.send("guest-ping\r")
        child.expect(r'"return": \{\}')
        child.expect(PROMPT)
        assert quit_shell(child) == 0
        sent = [r["execute"] for r in agent.received]
    assert sent[-3:] == ["guest-get-time", "guest-sync-delimited", "guest-ping"]
    assert sent[0] == "guest-sync-delimited"  # on connect, too
    assert "1234" not in seen.getvalue()  # the stale reply was never shown
