"""The private libvirt daemon fixture: a domain runs, and nothing outlives the test."""

from __future__ import annotations

import os
from pathlib import Path

from helpers.libvirt_daemon import LibvirtDaemon


def test_domain_runs_and_everything_goes(libvirt_daemon: LibvirtDaemon) -> None:
    name = libvirt_daemon.create_domain("qs-probe")
    assert libvirt_daemon.virsh("domstate", name).strip() == "running"
    reply = libvirt_daemon.virsh("qemu-monitor-command", name, '{"execute":"query-status"}')
    assert '"status":"running"' in reply
    pid_file = libvirt_daemon.root / "run" / "libvirt" / "qemu" / "run" / f"{name}.pid"
    pid = int(pid_file.read_text())
    libvirt_daemon.stop_daemon()  # as when a daemon dies under a running guest
    assert Path(f"/proc/{pid}").exists()
    root = libvirt_daemon.root
    libvirt_daemon.stop()
    assert not root.exists()
    assert _gone(pid)


def test_daemon_keeps_off_the_host(libvirt_daemon: LibvirtDaemon) -> None:
    assert str(libvirt_daemon.root) in libvirt_daemon.uri
    assert "/session" in libvirt_daemon.virsh("uri")


def _gone(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rpartition(")")[2].split()[0] == "Z" or not os.path.exists(f"/proc/{pid}")
