"""The QEMU fixture gives a real server that speaks QMP on a private socket."""

from __future__ import annotations

import json
import socket

from helpers.qemu_process import QemuProcess


def exchange(sock_file, request: dict) -> dict:  # type: ignore[no-untyped-def]
    sock_file.write(json.dumps(request).encode() + b"\n")
    sock_file.flush()
    while True:
        msg = json.loads(sock_file.readline())
        if "event" not in msg:
            return msg


def test_real_qemu_greets_negotiates_and_answers(qemu: QemuProcess) -> None:
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(10)
        s.connect(str(qemu.socket_path))
        f = s.makefile("rwb")
        greeting = json.loads(f.readline())
        assert "version" in greeting["QMP"]
        assert exchange(f, {"execute": "qmp_capabilities"}) == {"return": {}}
        version = exchange(f, {"execute": "query-version"})["return"]
        assert version["qemu"]["major"] >= 2


def test_fixture_tears_qemu_down(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from conftest import require_qemu
    require_qemu()
    proc = QemuProcess(tmp_path).start()
    pid = proc.proc.pid if proc.proc else 0
    proc.stop()
    import os
    try:
        os.kill(pid, 0)
        alive = True
    except ProcessLookupError:
        alive = False
    assert not alive
