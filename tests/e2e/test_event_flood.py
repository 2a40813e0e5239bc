"""An event flood does not lock the operator out: 100,000 events while the
prompt is idle, then a typed query-status runs within 2 s of the flood's end,
the flood is folded on the screen, and the logfile holds every event.  In
scripts every event reaches stdout and .wait; past the bound the loss is said
and the script fails."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

pexpect = pytest.importorskip("pexpect")

from conftest import isolated_env  # noqa: E402
from helpers.hostile_server import HostileServer, line, ok, reply  # noqa: E402

QMPSHELL = Path(sys.executable).parent / "qmpshell"
EVENTS = 100_000


def flood(count: int) -> bytes:
    return b"".join(line({"event": "BLOCK_IO_ERROR", "data": {"device": "d0", "n": i},
                          "timestamp": {"seconds": 1700000000, "microseconds": i % 1000000}})
                    for i in range(count))


def test_a_flood_while_idle_leaves_the_prompt_responsive(tmp_path: Path, home: Path) -> None:
    log = tmp_path / "log.jsonl"
    data = flood(EVENTS)
    with HostileServer(tmp_path) as server:
        child = pexpect.spawn(str(QMPSHELL), ["-l", str(log), server.address],
                              env=isolated_env(home), dimensions=(30, 160), encoding="utf-8",
                              timeout=60)
        try:
            child.expect("Connected to", timeout=20)  # the prompt runs (not just painted)
            pusher = threading.Thread(target=server.push, args=(data,))
            pusher.start()
            shown = []
            while pusher.is_alive():  # the terminal reads what is printed, as a real one does
                with contextlib.suppress(pexpect.TIMEOUT):
                    shown.append(child.read_nonblocking(1 << 16, timeout=0.05))
            pusher.join()
            flood_end = time.monotonic()
            child.sendline("query-status")
            child.expect(r'"return"', timeout=60)
            took = time.monotonic() - flood_end
            child.sendline(".events")
            child.expect("older folded events were not kept", timeout=30)
            child.expect('"n"', timeout=30)  # in the pager: folded events, shown
            child.send("q")
            child.sendline(".events")
            child.expect("no folded events", timeout=30)
            child.sendline(".quit")
            child.expect(pexpect.EOF, timeout=60)
        finally:
            child.close(force=True)
    assert took < 2.0, f"the typed line ran {took:.1f} s after the flood"
    assert "BLOCK_IO_ERROR events folded; .events shows them" in "".join(shown) + child.before
    received = [json.loads(entry) for entry in log.read_text().splitlines()]
    events = [e for e in received if e["direction"] == "received" and "event" in e["message"]]
    assert len(events) == EVENTS


def scripted(tmp_path: Path, events: int, *lines: str) -> subprocess.CompletedProcess[str]:
    def answer(request: dict[str, Any]) -> bytes:
        if request.get("execute") != "query-status":
            return ok(request)
        return flood(events) + reply(request, {"status": "running", "running": True})

    with HostileServer(tmp_path, answer=answer) as server:
        args = [arg for line in ("query-status", *lines) for arg in ("-c", line)]
        return subprocess.run([sys.executable, "-m", "qmpshell", server.address, "--compact",
                               *args], capture_output=True, text=True, timeout=300,
                              stdin=subprocess.DEVNULL,
                              env={**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")})


def test_every_event_of_a_flood_reaches_a_scripts_stdout_and_wait(tmp_path: Path) -> None:
    done = scripted(tmp_path, EVENTS, ".wait BLOCK_IO_ERROR n=0 timeout=1")
    assert done.returncode == 0, done.stderr[-500:]
    lines = done.stdout.splitlines()
    assert len(lines) == EVENTS + 1
    assert json.loads(lines[0])["data"]["n"] == 0 and json.loads(lines[-1])["return"]
    assert done.stderr == ""


def test_events_past_the_bound_are_said_dropped_and_the_script_fails(tmp_path: Path) -> None:
    done = scripted(tmp_path, EVENTS + 25)
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        "<command>:1: error: 25 events were dropped: more arrived than the 100,000 kept "
        "while waiting"]
    assert len(done.stdout.splitlines()) == EVENTS + 1
