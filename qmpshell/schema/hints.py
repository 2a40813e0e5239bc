"""Which live values complete an argument: the one place that says so.

A hint names a look-up the prompt makes through its live-values interface
(cached, with a deadline, so a keystroke never waits on the server):

==================  =====================================================
``block-device``    drives by device name (``query-block``)
``node-name``       block nodes (``query-named-block-nodes``)
``block-node``      both: arguments that take a device or a node name
``job-id``          jobs (``query-jobs``)
``bitmap[:NODE]``   dirty bitmaps, of NODE when the line names it
``device-type``     ``device_add`` drivers (``qom-list-types``)
``object-type``     ``object-add`` types (``qom-list-types``)
``qom-property:P``  properties of the object at path P (``qom-list``)
``qom-path``        QOM paths, a segment at a time (``qom-list``)
``chardev``         character devices (``query-chardev``)
``device-id``       devices added with an id (``qom-list``)
``hmp-command``     HMP's own command names (its ``help``)
``file``            a file name (the file system, not the server)
==================  =====================================================

:func:`argument_names_hint` says where the *names* of free-form arguments
come from: a ``device_add`` driver's properties (``device-list-properties``),
an ``object-add`` type's (``qom-list-properties``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from qmpshell.schema.model import Member, Schema

BY_ARGUMENT: Mapping[tuple[str, str], str] = {
    ("blockdev-mirror", "device"): "block-node",
    ("blockdev-mirror", "target"): "node-name",
    ("blockdev-mirror", "replaces"): "node-name",
    ("blockdev-backup", "device"): "block-node",
    ("blockdev-backup", "target"): "node-name",
    ("block-stream", "device"): "block-node",
    ("block-stream", "base"): "",
    ("block-commit", "device"): "block-node",
    ("block-commit", "top"): "",
    ("block-commit", "base"): "",
    ("drive-mirror", "device"): "block-node",
    ("drive-backup", "device"): "block-node",
    ("block_resize", "device"): "block-device",
    ("block_resize", "node-name"): "node-name",
    ("blockdev-del", "node-name"): "node-name",
    ("blockdev-snapshot", "node"): "node-name",
    ("blockdev-snapshot", "overlay"): "node-name",
    ("device_add", "driver"): "device-type",
    ("object-add", "qom-type"): "object-type",
    ("device_del", "id"): "device-id",
    ("qom-get", "path"): "qom-path",
    ("qom-set", "path"): "qom-path",
    ("qom-list", "path"): "qom-path",
    ("ringbuf-write", "device"): "chardev",
    ("ringbuf-read", "device"): "chardev",
}
"""(command, argument) -> hint, where only the command tells what a string names
('' where a general rule would be wrong)."""

BY_NAME: Mapping[str, str] = {
    "node-name": "node-name",
    "node": "node-name",
    "base-node": "node-name",
    "top-node": "node-name",
    "target-node": "node-name",
}
"""Argument names that name a block node in every command that reads one."""

NEW_NAMES = ("blockdev-add", "blockdev-create", "blockdev-snapshot-sync", "block-dirty-bitmap-add")
"""Commands whose names create what they name: nothing live completes them."""

BLOCKDEV_REFERENCES = ("file", "backing", "data-file", "image", "child")
"""blockdev-add members that refer to an existing node by name."""

_BLOCK_WORDS = ("block", "drive", "eject", "change", "snapshot", "nbd")


def value_hint(command: str, member: Member, schema: Schema,
               given: Mapping[str, Any] | None = None) -> str:
    """Which live values complete ``member`` of ``command`` ('' for none);
    ``given`` (the arguments typed so far) narrows some (a bitmap of the
    node named, a property of the path named)."""
    given = given or {}
    name = member.name
    if (command, name) in BY_ARGUMENT:
        return BY_ARGUMENT[(command, name)]
    if command.startswith("job-") and name == "id":
        return "job-id"
    if command.startswith("block-job-") and name == "device":
        return "job-id"
    if command in ("qom-get", "qom-set") and name == "property":
        path = given.get("path")
        return f"qom-property:{path}" if isinstance(path, str) and path else ""
    if command.startswith("block-dirty-bitmap-") and name in ("name", "target") and \
            command != "block-dirty-bitmap-add":
        node = given.get("node")
        return f"bitmap:{node}" if isinstance(node, str) and node else "bitmap"
    if member.hint:
        return member.hint
    if not _takes_a_string(schema, member.type):
        return "file" if _is_file(schema, member.type) else ""
    if command == "blockdev-add" and name in BLOCKDEV_REFERENCES:
        return "node-name"
    if name in BY_NAME:
        return "" if command in NEW_NAMES else BY_NAME[name]
    if name == "device" and any(w in command for w in _BLOCK_WORDS):
        return "block-device"
    if name in ("id", "chardev") and command.startswith("chardev-") and command != "chardev-add":
        return "chardev"
    if name in ("filename", "file", "target") and command != "blockdev-add" and (
            "snapshot" in command or "drive" in command or command.startswith("dump")):
        return "file"
    return ""


def argument_names_hint(command: str, given: Mapping[str, Any]) -> str:
    """Where the names of ``command``'s free-form arguments come from, once
    the line says what is being made ('' for nowhere)."""
    if command == "device_add":
        driver = given.get("driver")
        return f"device-property:{driver}" if isinstance(driver, str) and driver else ""
    if command == "object-add":
        qom_type = given.get("qom-type")
        return f"object-property:{qom_type}" if isinstance(qom_type, str) and qom_type else ""
    return ""


def _is_file(schema: Schema, type_name: str) -> bool:
    info = schema.resolve(type_name)
    return info.kind == "builtin" and info.builtin == "file"


def _takes_a_string(schema: Schema, type_name: str) -> bool:
    """A string, or an alternate one of whose forms is a string (a node
    reference is a name or a whole options object)."""
    info = schema.resolve(type_name)
    if info.kind == "builtin":
        return info.builtin == "str"
    if info.kind == "alternate":
        return any(_takes_a_string(schema, alt) for alt in info.alternatives
                   if schema.resolve(alt).kind == "builtin")
    return False
