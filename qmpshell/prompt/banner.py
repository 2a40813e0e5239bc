"""What the prompt says about the connection: what it is connected to, that
the VM quit when a person asked it to, and a lost connection, once.

Pure functions, so the sentences are tested without a server."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from qmpshell.qemuversion import version_text

HINT = "Tab completes, .help lists commands"


def describe_server(greeting: Mapping[str, Any] | None, arch: str, address: str,
                    domain: bool = False) -> str:
    """'QEMU 7.2.22 (x86_64) at /path.sock' (or ', libvirt domain web1' for a
    ``domain`` reached through libvirt); what is known of it."""
    name = " ".join(("QEMU", version_text(greeting))).rstrip()
    if arch:
        name += f" ({arch})"
    return f"{name}, libvirt domain {address}" if domain else f"{name} at {address}"


def banner(description: str, width: int = 0) -> str:
    """The line the prompt opens with; two lines, the hint on the second,
    when it is wider than ``width`` (a terminal would break it mid-word)."""
    line = f"Connected to {description} \N{EM DASH} {HINT}"
    if width and len(line) > width:
        return f"Connected to {description}\n{HINT}"
    return line


def fleet_banner(vms: Sequence[tuple[str, str]]) -> str:
    """What the prompt opens with when it holds several VMs: how many, then
    a line for each, its name and what it is connected to."""
    width = max(len(name) for name, _ in vms)
    rows = "".join(f"\n  {name.ljust(width)}  {description}" for name, description in vms)
    return f"Connected to {len(vms)} VMs \N{EM DASH} {HINT}{rows}"


def asks_to_quit(request: Mapping[str, Any]) -> bool:
    """The request stops QEMU itself (QMP ``quit`` or HMP ``quit``/``q``):
    the connection closing after it is the answer, not a failure."""
    name = request.get("execute")
    if name == "quit":
        return True
    if name == "human-monitor-command":
        arguments = request.get("arguments") or {}
        words = str(arguments.get("command-line", "")).split()
        return words[:1] in (["quit"], ["q"])
    return False
