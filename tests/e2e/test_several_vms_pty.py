"""Several VMs and libvirt guests at the prompt, in a real pty: the prompt
names the VM, @all replies gathered, .connect/.use/.disconnect, events of a
libvirt guest while typing, its schema completing, its daemon going away."""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

pexpect = pytest.importorskip("pexpect")

from conftest import isolated_env  # noqa: E402
from helpers.fake_server import FakeQMP, never  # noqa: E402
from helpers.libvirt_daemon import LibvirtDaemon  # noqa: E402
from helpers.qemu_process import QemuProcess  # noqa: E402

QMPSHELL = Path(sys.executable).parent / "qmpshell"
DEADLINE = 20


def spawn(home: Path, *args: str) -> Any:
    return pexpect.spawn(str(QMPSHELL), list(args), env=isolated_env(home),
                         dimensions=(40, 120), encoding="utf-8", timeout=DEADLINE)


def quit_shell(child: Any) -> int:
    child.sendcontrol("d")
    child.expect(pexpect.EOF)
    child.close()
    return int(child.exitstatus)


def test_prompt_names_the_vm_and_gathers_identical_replies(
        start_qemu: Callable[..., QemuProcess], home: Path) -> None:
    a, b, c = start_qemu("a"), start_qemu("b"), start_qemu("c")
    child = spawn(home, f"a={a.socket_path}", f"b={b.socket_path}")
    child.expect(r"\(a\)")
    child.expect(r"Connected to 2 VMs \N{EM DASH} Tab completes")  # the banner names each
    child.expect(rf"\r\n  a  QEMU \d+\.\d+\.\d+ \(x86_64\) at {re.escape(str(a.socket_path))}\r\n")
    child.expect(rf"  b  QEMU \d+\.\d+\.\d+ \(x86_64\) at {re.escape(str(b.socket_path))}\r\n")
    child.send("@b stop\r")
    child.expect(r"STOP \[b\]")
    child.expect(r"\(a\)")
    child.send("@all query-status\r")
    child.expect(r"-+\r\na \(1\)\r\n-+\r\n")
    child.expect('"status": "running"')
    child.expect(r"-+\r\nb \(1\)\r\n-+\r\n")
    child.expect('"status": "paused"')
    child.expect(r"@all: 2 VMs, 2 succeeded")
    child.send("@all query-name\r")
    child.expect(r"-+\r\na,b \(2\)\r\n-+\r\n")
    child.expect(r"@all: 2 VMs, 2 succeeded")
    child.send("@all .sleep 0\r")  # nothing printed: no empty block, just the summary
    child.expect(r"@all: 2 VMs, 2 succeeded")
    assert "---" not in child.before.rpartition(".sleep 0")[2]
    child.send(f".connect c={c.socket_path}\r")
    child.expect(r"c: connected to QEMU")
    child.send(".use c\r")
    child.expect(r"\(c\)")
    child.send(".disconnect a\r")
    child.expect("disconnected from a")
    child.send(".vms\r")
    child.expect(r"\* c +qmp")
    child.expect(r"\(c\)")
    child.send("@a query-status\r")
    child.expect(r"no VM named 'a'")
    child.expect(r"\(c\)")
    assert quit_shell(child) == 0


def test_libvirt_guest_at_the_prompt(libvirt_daemon: LibvirtDaemon, libvirt_domain: str,
                                     home: Path) -> None:
    child = spawn(home, "--connect", libvirt_daemon.uri, "--domain", libvirt_domain)
    prompt = rf"\({libvirt_domain}\)"
    child.expect(prompt)
    # The architecture is asked of QEMU with a 2 s limit (Repl.describe): through
    # libvirt, on a loaded machine, the banner may come without it.
    child.expect(rf"Connected to QEMU \d+\.\d+\.\d+( \(x86_64\))?, libvirt domain "
                 rf"{libvirt_domain} ")
    child.send(".schema\r")
    child.expect(r"schema: live QEMU \d+\.\d+")
    child.expect(prompt)
    child.send("block_resize node-name=libvirt-1-form")
    child.expect("libvirt-1-format")  # the guest's own node names, in the menu
    child.send("\t")  # taken, and a space
    child.send("size=32M\r")
    child.expect(r'"return": \{\}')
    child.expect(prompt)
    child.send("query-sta")  # typing, no Enter: the events still show
    libvirt_daemon.virsh("suspend", libvirt_domain)
    child.expect("STOP")
    libvirt_daemon.virsh("resume", libvirt_domain)
    child.expect("RESUME")
    child.send("tus\r")
    child.expect('"status": "running"')
    child.expect(prompt)
    libvirt_daemon.stop_daemon()
    child.expect("connection lost: the libvirt daemon closed the connection")
    child.expect(prompt)
    child.send("query-status\r")
    child.expect(r"not connected \(the connection was lost\)")
    child.expect(prompt)
    libvirt_daemon.start()  # back, with the guest still running: .connect attaches again
    child.send(".connect\r")
    child.expect("connected to QEMU")
    child.expect(prompt)
    child.send("query-status\r")
    child.expect('"status": "running"')
    child.expect(prompt)
    assert "Traceback" not in child.before
    assert quit_shell(child) == 0


def test_ctrl_c_ends_an_all_line_that_waits_for_a_silent_vm(
        start_qemu: Callable[..., QemuProcess], home: Path, tmp_path: Path) -> None:
    a = start_qemu("a")
    with FakeQMP(tmp_path, behaviours={"query-status": never}) as silent:
        child = spawn(home, f"a={a.socket_path}", f"s={silent.address}")
        child.expect(r"\(a\)")
        child.send("@all query-status\r")
        for _ in range(DEADLINE * 4):  # until the line runs, Ctrl-C only clears the prompt
            child.sendcontrol("c")
            if child.expect(["interrupted", pexpect.TIMEOUT], timeout=0.25) == 0:
                break
        else:
            raise AssertionError("'interrupted' did not show after Ctrl-C")
        child.expect(r"\(a\)")
        child.send("@a query-status\r")
        child.expect('"status": "running"')
        child.expect(r"\(a\)")
        assert quit_shell(child) == 0
