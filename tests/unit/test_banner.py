"""The prompt's sentences about the connection."""

from __future__ import annotations

from pathlib import Path

from qmpshell.prompt.banner import asks_to_quit, banner, describe_server
from qmpshell.wire.address import same_address

GREETING = {"QMP": {"version": {"qemu": {"major": 7, "minor": 2, "micro": 22},
                                "package": "Debian"}, "capabilities": []}}


def test_what_the_prompt_is_connected_to() -> None:
    assert describe_server(GREETING, "x86_64", "/run/vm.sock") == \
        "QEMU 7.2.22 (x86_64) at /run/vm.sock"
    assert describe_server(None, "", "host:4444") == "QEMU at host:4444"
    assert describe_server(GREETING, "x86_64", "web1", domain=True) == \
        "QEMU 7.2.22 (x86_64), libvirt domain web1"
    assert banner("QEMU 7.2.22 (x86_64) at /s") == \
        "Connected to QEMU 7.2.22 (x86_64) at /s \N{EM DASH} Tab completes, .help lists commands"
    assert banner("QEMU 7.2.22 (x86_64) at /s", 80) == banner("QEMU 7.2.22 (x86_64) at /s")
    # too wide for the terminal: the hint goes on a line of its own, not cut mid-word
    assert banner("QEMU 7.2.22 (x86_64) at /run/vm/web1.qmp", 80) == \
        "Connected to QEMU 7.2.22 (x86_64) at /run/vm/web1.qmp\nTab completes, .help lists commands"


def test_a_quit_asked_for() -> None:
    assert asks_to_quit({"execute": "quit"})
    assert asks_to_quit({"execute": "human-monitor-command", "arguments": {"command-line": "q"}})
    assert not asks_to_quit({"execute": "stop"})
    assert not asks_to_quit({"execute": "human-monitor-command",
                             "arguments": {"command-line": "info status"}})


def test_the_same_server_however_spelt(tmp_path: Path) -> None:
    sock = tmp_path / "vm.sock"
    sock.touch()
    assert same_address(str(sock), str(tmp_path / "." / "vm.sock"))
    assert same_address("localhost:4444", "localhost:4444")
    assert not same_address("localhost:4444", "localhost:4445")
    assert not same_address(str(sock), None)


def test_several_vms_each_on_a_line_of_its_own() -> None:
    from qmpshell.prompt.banner import fleet_banner

    assert fleet_banner([("src", "QEMU 7.2.22 (x86_64) at /run/src.sock"),
                         ("db-primary", "not connected")]).splitlines() == [
        "Connected to 2 VMs \N{EM DASH} Tab completes, .help lists commands",
        "  src         QEMU 7.2.22 (x86_64) at /run/src.sock",
        "  db-primary  not connected",
    ]
