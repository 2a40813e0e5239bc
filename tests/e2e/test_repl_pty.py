"""End to end: the installed ``qmpshell`` in a real pty, typed at as a person
would, against a real QEMU with a scratch drive.

The terminal is redrawn piecewise, so the tests wait (with a deadline) for
text that is written whole: menu entries, replies, events, messages.  Where
the question is what the line became after Tab, the answer comes from what
the shell ran (its reply) and from the history file written at exit.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

pexpect = pytest.importorskip("pexpect")

from conftest import isolated_env  # noqa: E402
from helpers.monitor_client import MonitorClient  # noqa: E402
from helpers.qemu_process import QemuProcess  # noqa: E402

QMPSHELL = Path(sys.executable).parent / "qmpshell"
PROMPT = r"\(QEMU\)"
DEADLINE = 20

pytestmark = pytest.mark.qemu


@pytest.fixture
def machine(start_qemu: Callable[..., QemuProcess]) -> QemuProcess:
    """A q35 QEMU with the 'scratch' drive and a second (TCP) monitor, so a
    test can make QEMU emit events while the shell's user is typing."""
    return start_qemu(scratch=True, tcp=True)



def shell(machine: QemuProcess, home: Path, *extra: str) -> Any:
    env = isolated_env(home)
    child = pexpect.spawn(str(QMPSHELL), [*extra, str(machine.socket_path)], env=env,
                          dimensions=(30, 120), encoding="utf-8", timeout=DEADLINE)
    child.expect(PROMPT)
    return child


def history(home: Path) -> list[str]:
    path = home / "state" / "qmpshell" / "history"
    return [line[1:] for line in path.read_text().splitlines() if line.startswith("+")]


def quit_shell(child: Any) -> int:
    child.sendcontrol("d")
    child.expect(pexpect.EOF)
    child.close()
    return int(child.exitstatus)


def interrupt_until(child: Any, text: str) -> None:
    """Press Ctrl-C until ``text`` shows (the line must be running, not just
    sent, for Ctrl-C to reach it), within the deadline."""
    for _ in range(DEADLINE * 4):
        child.sendcontrol("c")
        if child.expect([text, pexpect.TIMEOUT], timeout=0.25) == 0:
            return
    raise AssertionError(f"{text!r} did not show after Ctrl-C")


def test_tab_completes_command_argument_and_live_value(machine: QemuProcess, home: Path) -> None:
    child = shell(machine, home)
    child.send("block_r")
    child.expect("block_resize")  # the menu offers it while typing
    child.send("\t")  # takes 'block_resize ', a space after it as readline does
    child.send("dev")
    child.expect("device")  # the argument menu
    child.send("\t")  # takes 'device=' and shows the live values
    child.expect("scratch")
    child.send("\t")  # the one live value, and a space
    child.send("size=96M\r")
    child.expect(r'"return": \{\}')
    child.expect(PROMPT)
    child.send("query-block\r")
    child.expect(r"scratch\s+#block\d+\s+qcow2\s+96 MiB\s+rw")  # a table at a terminal
    child.expect(PROMPT)
    assert quit_shell(child) == 0
    assert history(home) == ["block_resize device=scratch size=96M", "query-block"]


def test_stop_shows_the_event_and_events_arrive_while_typing(machine: QemuProcess,
                                                             home: Path) -> None:
    child = shell(machine, home)
    child.send("stop\r")
    child.expect("STOP")
    child.expect(PROMPT)
    child.send("query-sta")  # typing, no Enter
    other = MonitorClient(machine.tcp_port, DEADLINE)
    try:
        assert other.execute("cont") == {"return": {}}
        child.expect("RESUME")  # shown above the prompt without pressing Enter
    finally:
        other.close()
    child.send("tus\r")  # the line being typed survived the event
    child.expect('"running": true')
    child.expect(PROMPT)
    assert quit_shell(child) == 0
    assert history(home) == ["stop", "query-status"]


def test_help_shows_arguments(machine: QemuProcess, home: Path) -> None:
    child = shell(machine, home)
    child.send(".help block_resize\r")
    child.expect("Arguments:")
    child.expect(r"size\s+\S+\s+required")
    child.expect(r"device\s+string\s+optional")
    child.expect(PROMPT)
    child.send("block_resize ?\r")
    child.expect("Arguments:")
    child.expect(PROMPT)
    assert quit_shell(child) == 0


def test_history_masks_passwords(machine: QemuProcess, home: Path) -> None:
    child = shell(machine, home)
    child.send("set_password protocol=vnc password=secret123\r")
    child.expect(PROMPT)  # QEMU may refuse (no VNC); the history must be masked anyway
    child.send("query-status\r")
    child.expect('"status"')
    child.expect(PROMPT)
    assert quit_shell(child) == 0
    text = (home / "state" / "qmpshell" / "history").read_text()
    assert "secret123" not in text
    assert history(home) == ["set_password protocol=vnc password=********", "query-status"]


def test_ctrl_c_abandons_a_wait_and_clears_a_line(machine: QemuProcess, home: Path) -> None:
    child = shell(machine, home)
    child.send(".wait SUSPEND_DISK\r")
    interrupt_until(child, "interrupted")
    child.expect(PROMPT)
    child.send("garbage here")
    child.sendcontrol("c")
    child.expect(PROMPT)
    child.send("query-status\r")
    child.expect('"status"')
    child.expect(PROMPT)
    assert quit_shell(child) == 0
    assert history(home) == [".wait SUSPEND_DISK", "query-status"]


def test_lost_connection_then_connect(machine: QemuProcess, home: Path) -> None:
    child = shell(machine, home)
    machine.stop()
    child.expect("connection lost")
    child.expect(PROMPT)
    child.send("query-status\r")
    child.expect("error: not connected")  # the loss was said once, above
    child.expect(PROMPT)
    machine.start()  # the same socket path again
    child.send(".connect\r")
    child.expect("connected to")
    child.expect(PROMPT)
    child.send("query-status\r")
    child.expect('"status"')
    child.expect(PROMPT)
    assert quit_shell(child) == 0


def test_quit_asks_and_no_keeps_qemu_running(machine: QemuProcess, home: Path) -> None:
    child = shell(machine, home)
    child.send("quit\r")
    child.expect(r"Run it\? \[y/N\]")
    child.send("n\r")
    child.expect("not run")
    child.expect(PROMPT)
    child.send("query-status\r")
    child.expect('"status"')
    child.expect(PROMPT)
    assert machine.alive()
    assert quit_shell(child) == 0


def test_yes_option_does_not_ask(machine: QemuProcess, home: Path) -> None:
    child = shell(machine, home, "--yes")
    child.send("quit\r")
    child.expect("SHUTDOWN")
    assert machine.proc is not None
    machine.proc.wait(timeout=DEADLINE)
    child.expect("The VM quit")  # no question came first; the prompt is back
    child.expect(PROMPT)
    child.sendcontrol("d")
    child.expect(pexpect.EOF)


def test_connect_reads_the_new_servers_schema(machine: QemuProcess, home: Path,
                                              tmp_path: Path) -> None:
    """Started against a server that cannot describe itself (the bundled
    table, untyped values), then .connect to QEMU: its own schema is loaded
    in the background and types the lines that follow."""
    from helpers.fake_server import FakeQMP

    fake_dir = tmp_path / "fake"
    fake_dir.mkdir()
    with FakeQMP(fake_dir) as fake:
        env = isolated_env(home)
        child = pexpect.spawn(str(QMPSHELL), [fake.address], env=env, dimensions=(30, 120),
                              encoding="utf-8", timeout=DEADLINE)
        child.expect(PROMPT)
        child.send(".schema\r")
        child.expect("schema: the bundled QMP spec")
        child.expect(PROMPT)
        child.send(f".connect {machine.socket_path}\r")
        child.expect("connected to")
        child.expect(PROMPT)
    for _ in range(DEADLINE * 4):  # loaded in the background: ask until it is there
        child.send(".schema\r")
        if child.expect([r"schema: live QEMU \d+\.\d+", r"schema: the bundled"]) == 0:
            break
        child.expect(PROMPT)
    else:
        raise AssertionError("the server's schema was not loaded after .connect")
    child.expect(PROMPT)
    child.send("blockdev-add driver=null-co node-name=n0 size=1M\r")  # typed: 1M is a size
    child.expect(r'"return": \{\}')
    child.expect(PROMPT)
    child.send("query-named-block-nodes\r")
    child.expect(r"n0\s+null-co\s+1 MiB")
    child.expect(PROMPT)
    assert quit_shell(child) == 0


def test_keys_typed_while_a_line_runs_wait_for_the_prompt_as_typed(
        machine: QemuProcess, home: Path) -> None:
    """Between two prompts the terminal's own line editing is off: a Ctrl-D
    typed while a line runs reaches the next prompt (an empty line: the
    shell ends) instead of being eaten by the terminal, and nothing typed
    meanwhile is echoed into the line's output."""
    child = shell(machine, home)
    child.expect("Connected to QEMU")  # the line editor is up, not just the painted prompt
    child.send(".sleep 1\r")  # read at once with its Enter: it runs once shown
    child.expect(r"\.sleep")
    child.send("query-kvm")  # while the line runs
    child.send("\x15")  # Ctrl-U: for the next prompt's line, not the terminal's
    child.sendcontrol("d")
    child.expect(pexpect.EOF)
    assert "query-kvm" not in child.before
    child.close()
    assert child.exitstatus == 0
