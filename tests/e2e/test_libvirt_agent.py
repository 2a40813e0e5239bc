"""--domain NAME --agent: a libvirt guest's agent through libvirt's own agent
channel (qemuAgentCommand), typed by the guest-agent table.

The test guest runs no operating system, so no agent ever answers inside it:
what is tested is the path up to libvirt and back (the request typed by the
agent table, libvirt's answer turned into one error reply, no traceback).
The agent protocol itself is tested against a real qemu-ga in test_agent.py."""

from __future__ import annotations

import json

from helpers.cli import qmpshell
from helpers.libvirt_daemon import LibvirtDaemon


def test_agent_commands_go_through_libvirts_agent_channel(
        libvirt_daemon: LibvirtDaemon) -> None:
    name = libvirt_daemon.create_domain("qs-agent", agent_channel=True)
    r = qmpshell("--connect", libvirt_daemon.uri, "--domain", name, "--agent", "-v",
                 "--compact", "-c", "guest-exec-status pid=1", timeout=120)
    lines = r.stdout.splitlines()
    # typed by the agent table: pid is an integer
    assert json.loads(lines[0]) == {"execute": "guest-exec-status", "arguments": {"pid": 1}}
    reply = json.loads(lines[1])
    assert "agent" in reply["error"]["desc"].lower(), reply  # libvirt: not connected
    assert r.returncode == 1
    assert "Traceback" not in r.stderr and len(r.stderr.splitlines()) <= 1


def test_a_mistyped_agent_command_is_refused_before_libvirt(
        libvirt_daemon: LibvirtDaemon) -> None:
    name = libvirt_daemon.create_domain("qs-agent2", agent_channel=True)
    r = qmpshell("--connect", libvirt_daemon.uri, "--domain", name, "--agent",
                 "-c", "guest-pnig", timeout=120)
    assert r.returncode == 1
    assert "did you mean 'guest-ping'" in r.stderr
    assert r.stdout == ""
