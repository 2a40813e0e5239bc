"""The QEMU fixture gives a real server that speaks QMP on a private socket."""

from __future__ import annotations

import json
import os
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


def test_tcp_monitor_is_ready_untouched_and_answers_first_client(qemu: QemuProcess) -> None:
    """The fixture saw the TCP monitor listening without connecting to it:
    the test's own connection is QEMU's first client there."""
    from helpers.qemu_process import tcp_listening

    assert qemu.proc is not None and tcp_listening(qemu.tcp_port, qemu.proc.pid)
    with socket.create_connection(("127.0.0.1", qemu.tcp_port), timeout=10) as s:
        f = s.makefile("rwb")
        assert "QMP" in json.loads(f.readline())
        assert exchange(f, {"execute": "qmp_capabilities"}) == {"return": {}}


def test_a_bound_port_nobody_listens_on_is_not_ready() -> None:
    from helpers.qemu_process import tcp_listening

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        assert not tcp_listening(s.getsockname()[1])
        s.listen(1)
        assert tcp_listening(s.getsockname()[1])
        assert tcp_listening(s.getsockname()[1], os.getpid())
        assert not tcp_listening(s.getsockname()[1], os.getppid())  # not its listener


def test_a_port_taken_before_qemu_binds_it_is_picked_again(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """free_port() can hand out a port that another process takes before
    QEMU binds it: the start is tried again with another port."""
    from conftest import require_qemu
    from helpers import qemu_process

    require_qemu()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        ports = iter([taken.getsockname()[1]])
        real_free_port = qemu_process.free_port
        monkeypatch.setattr(qemu_process, "free_port",
                            lambda: next(ports, None) or real_free_port())
        proc = QemuProcess(tmp_path, tcp=True).start()
        try:
            assert proc.tcp_port != taken.getsockname()[1]
            assert proc.proc is not None
            assert qemu_process.tcp_listening(proc.tcp_port, proc.proc.pid)
        finally:
            proc.stop()
