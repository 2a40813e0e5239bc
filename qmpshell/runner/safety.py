"""Commands that stop or destroy a VM or lose data, in one table, and the
question the prompt asks before running one.

Policy (the caller's, documented here so it lives in one place): ask only
when a person types the line at the interactive prompt, and only when
``confirm`` is on (the default; ``--yes`` or ``confirm = false`` in the
config turns it off).  Scripts, ``-c``, session files and stdin never ask:
they run what they were given.

What is *not* in the table, on purpose:

- ``stop``: it pauses the VM; ``cont`` resumes it, nothing is lost.
- ``block_resize``: growing a disk is the everyday case; shrinking loses
  data but telling the two apart needs the current size from the server.
- ``migrate_cancel``, ``block-job-cancel``: the VM keeps running where it is.
- ``qom-set`` and other generic setters: what they do depends on the
  property; asking every time would teach people to answer "y" blindly.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing
if TYPE_CHECKING:
    from typing import Any

DESTRUCTIVE: Mapping[str, str] = MappingProxyType({
    "quit": "this stops QEMU and the VM with it",
    "system_reset": "this resets the VM at once; the guest loses unsaved work",
    "system_powerdown": "this asks the guest to power off",
    "device_del": "this unplugs the device from the running guest",
    "netdev_del": "this removes the network backend; the guest's NIC loses its link",
    "chardev-remove": "this removes the character device (a serial console, a monitor...)",
    "object-del": "this deletes the object (a secret, an iothread, a memory backend...)",
    "blockdev-del": "this removes the block node and closes its image",
    "eject": "this ejects the medium from the guest's drive",
    "change": "this replaces the medium in the guest's drive",
    "blockdev-change-medium": "this replaces the medium in the guest's drive",
    "blockdev-remove-medium": "this removes the medium from the guest's drive",
    "migrate": "this moves the VM away; it stops running here when migration completes",
    "snapshot-load": "this reverts the VM to the snapshot; its current state is lost",
    "snapshot-delete": "this deletes the snapshot for good",
    "blockdev-snapshot-delete-internal-sync": "this deletes the snapshot for good",
    "block-commit": "this merges an overlay into its backing image, changing that image "
                    "for good",
    "drive-mirror": "this overwrites the target image",
    "blockdev-mirror": "this overwrites the target image",
    "drive-backup": "this overwrites the target image",
    "blockdev-backup": "this overwrites the target image",
    "block-dirty-bitmap-remove": "this throws the bitmap away; the next incremental backup "
                                 "must be a full one",
    "block-dirty-bitmap-clear": "this clears the bitmap; the next incremental backup "
                                "must be a full one",
})
"""QMP command (or ``transaction`` action type) -> why it needs a yes."""

HMP_DESTRUCTIVE: Mapping[str, str] = MappingProxyType({
    "quit": DESTRUCTIVE["quit"],
    "q": DESTRUCTIVE["quit"],
    "system_reset": DESTRUCTIVE["system_reset"],
    "system_powerdown": DESTRUCTIVE["system_powerdown"],
    "device_del": DESTRUCTIVE["device_del"],
    "drive_del": "this removes the drive from the running guest",
    "netdev_del": DESTRUCTIVE["netdev_del"],
    "chardev-remove": DESTRUCTIVE["chardev-remove"],
    "object_del": DESTRUCTIVE["object-del"],
    "eject": DESTRUCTIVE["eject"],
    "change": DESTRUCTIVE["change"],
    "migrate": DESTRUCTIVE["migrate"],
    "loadvm": DESTRUCTIVE["snapshot-load"],
    "delvm": DESTRUCTIVE["snapshot-delete"],
    "commit": "this writes an overlay's changes into its backing image for good",
    "drive_mirror": DESTRUCTIVE["drive-mirror"],
    "drive_backup": DESTRUCTIVE["drive-backup"],
})
"""HMP command (first word of ``human-monitor-command``'s command line) -> why."""


_CONTAINERS = frozenset({"transaction", "human-monitor-command"})
"""Requests that carry other commands, looked inside."""


def needs_confirmation(request: Mapping[str, Any]) -> str | None:
    """Why ``request`` should be confirmed ('quit: this stops QEMU...'), or
    None when it is harmless.

    Looks inside ``transaction`` actions and ``human-monitor-command`` lines,
    so the same command cannot slip through another door."""
    name = request.get("execute", request.get("exec-oob"))
    if not isinstance(name, str) or (name not in DESTRUCTIVE and name not in _CONTAINERS):
        return None  # every query of a replayed session stops here
    args = request.get("arguments")
    args = args if isinstance(args, Mapping) else {}
    if name in DESTRUCTIVE:
        return f"{name}: {DESTRUCTIVE[name]}"
    if name == "transaction":
        actions = args.get("actions")
        for action in actions if isinstance(actions, list) else []:
            kind = action.get("type") if isinstance(action, Mapping) else None
            if isinstance(kind, str) and kind in DESTRUCTIVE:
                return f"transaction: {kind}: {DESTRUCTIVE[kind]}"
    if name == "human-monitor-command":
        line = args.get("command-line")
        words = line.split() if isinstance(line, str) else []
        if words and words[0] in HMP_DESTRUCTIVE:
            return f"{words[0]}: {HMP_DESTRUCTIVE[words[0]]}"
    return None


def confirmation_prompt(request: Mapping[str, Any]) -> str:
    """The question to ask, e.g. ``quit: this stops QEMU and the VM with it.
    Run it? [y/N] ``; empty when the request needs none."""
    reason = needs_confirmation(request)
    return f"{reason}. Run it? [y/N] " if reason else ""


def is_yes(answer: str) -> bool:
    """True only for an explicit yes ('y', 'yes', any case); Enter means no."""
    return answer.strip().lower() in ("y", "yes")
