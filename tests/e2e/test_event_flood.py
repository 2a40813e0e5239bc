"""An event flood does not lock the operator out: 100,000 events while the
prompt is idle, then a typed query-status runs within 2 s of the flood's end,
the flood is folded on the screen, and the logfile holds every event."""

from __future__ import annotations

import contextlib
import json
import sys
import threading
import time
from pathlib import Path

import pytest

pexpect = pytest.importorskip("pexpect")

from conftest import isolated_env  # noqa: E402
from helpers.hostile_server import HostileServer, line  # noqa: E402

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
            child.sendline(".quit")
            child.expect(pexpect.EOF, timeout=60)
        finally:
            child.close(force=True)
    assert took < 2.0, f"the typed line ran {took:.1f} s after the flood"
    assert "BLOCK_IO_ERROR events folded; .events shows them" in "".join(shown) + child.before
    received = [json.loads(entry) for entry in log.read_text().splitlines()]
    events = [e for e in received if e["direction"] == "received" and "event" in e["message"]]
    assert len(events) == EVENTS
