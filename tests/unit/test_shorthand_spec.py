"""The shorthand against real schemas: the spec's 108 request examples, and
nested lines typed by QEMU 7.2's own ``query-qmp-schema``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import FIXTURES

from qmpshell.errors import ParseError
from qmpshell.schema.introspect import schema_from_qapi
from qmpshell.schema.table import load_bundled_schema
from qmpshell.shorthand.parser import format_request, parse_line

BUNDLED = load_bundled_schema()
LIVE = schema_from_qapi(json.loads((FIXTURES / "qemu-7.2-query-qmp-schema.json").read_text()))

EXAMPLES = [
    (command.name, example.line, example.json)
    for command in BUNDLED.commands.values()
    for example in command.examples
    if example.direction == "->" and example.valid
]

# Where the spec's example contradicts its own table, the table's type wins.
TRACE_EVENT_STRING_FOR_BOOLEAN = "trace-event-set-state"
"""Passes the string "true" for 'enable', a boolean (b) in the table."""
DUMP_GUEST_MEMORY_WITHOUT_PAGING = "dump-guest-memory"
"""Leaves out 'paging', required (paging:b) in the table."""
CONTRADICTIONS = {TRACE_EVENT_STRING_FOR_BOOLEAN, DUMP_GUEST_MEMORY_WITHOUT_PAGING}


def without_empty_arguments(request: Any) -> Any:
    """The parser omits empty "arguments" (QMP treats both the same)."""
    if isinstance(request, dict) and request.get("arguments") == {}:
        return {k: v for k, v in request.items() if k != "arguments"}
    return request


def test_the_spec_has_108_request_examples() -> None:
    assert len(EXAMPLES) == 108


@pytest.mark.parametrize(("name", "line", "request_"),
                         [e for e in EXAMPLES if e[0] not in CONTRADICTIONS],
                         ids=[f"{e[0]}:{e[1]}" for e in EXAMPLES if e[0] not in CONTRADICTIONS])
def test_every_spec_example_round_trips_as_shorthand(name: str, line: int,
                                                     request_: dict[str, Any]) -> None:
    shorthand = format_request(request_, BUNDLED)
    assert shorthand.split()[0] in (name, "transaction(")
    assert parse_line(shorthand, BUNDLED) == without_empty_arguments(request_)


def _example(name: str) -> dict[str, Any]:
    [request] = [r for n, _, r in EXAMPLES if n == name]
    return request


def test_trace_event_set_state_example_string_true_is_typed_as_the_boolean_true() -> None:
    request = _example(TRACE_EVENT_STRING_FOR_BOOLEAN)
    assert request["arguments"]["enable"] == "true"
    line = format_request(request, BUNDLED)
    assert parse_line(line, BUNDLED) == {
        "execute": "trace-event-set-state",
        "arguments": {"name": "qemu_memalign", "enable": True},
    }


def test_dump_guest_memory_example_without_paging_is_refused_naming_paging() -> None:
    line = format_request(_example(DUMP_GUEST_MEMORY_WITHOUT_PAGING), BUNDLED)
    assert line == "dump-guest-memory protocol=fd:dump"
    with pytest.raises(ParseError) as info:
        parse_line(line, BUNDLED)
    assert info.value.message == (
        "dump-guest-memory: missing required argument 'paging' (boolean)")


def bundled_only(tmp_path: Path) -> dict[str, str]:
    """No cached schema: the dry run checks against the bundled table."""
    return {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache"),
            "XDG_CONFIG_HOME": str(tmp_path / "config")}


def test_dry_run_prints_every_example_request(tmp_path: Path) -> None:
    """The rendered examples as a session file through ``qmpshell --dry-run``
    (``--show-secrets``: the examples' passwords as written)."""
    usable = [r for n, _, r in EXAMPLES if n != DUMP_GUEST_MEMORY_WITHOUT_PAGING]
    session = tmp_path / "examples.qmp"
    session.write_text("".join(format_request(r, BUNDLED) + "\n" for r in usable))
    done = subprocess.run([sys.executable, "-m", "qmpshell", "--dry-run", "--compact",
                           "--show-secrets", "-f", str(session)],
                          capture_output=True, text=True, timeout=60, env=bundled_only(tmp_path))
    assert done.returncode == 0, done.stderr
    printed = [json.loads(line) for line in done.stdout.splitlines()]
    expected = [without_empty_arguments(r) for r in usable]
    trace = next(i for i, r in enumerate(expected)
                 if r["execute"] == TRACE_EVENT_STRING_FOR_BOOLEAN)
    expected[trace]["arguments"] = {**expected[trace]["arguments"], "enable": True}
    assert printed == expected


def test_dry_run_refuses_the_dump_guest_memory_example_naming_paging(tmp_path: Path) -> None:
    session = tmp_path / "dump.qmp"
    session.write_text(format_request(_example(DUMP_GUEST_MEMORY_WITHOUT_PAGING), BUNDLED)
                       + "\n")
    done = subprocess.run([sys.executable, "-m", "qmpshell", "-n", "-f", str(session)],
                          capture_output=True, text=True, timeout=60, env=bundled_only(tmp_path))
    assert done.returncode == 1
    assert done.stdout == ""
    assert f"{session}:1: error:" in done.stderr
    assert "missing required argument 'paging'" in done.stderr


# -- QEMU 7.2's schema: nested structures, unions, alternates, enums ------------
@pytest.mark.parametrize(
    ("line", "request_"),
    [
        ("blockdev-add driver=qcow2 node-name=disk1 file.driver=file file.filename=/x",
         {"execute": "blockdev-add", "arguments": {
             "driver": "qcow2", "node-name": "disk1",
             "file": {"driver": "file", "filename": "/x"}}}),
        ("blockdev-add driver=qcow2 node-name=disk2 file=disk1 cache-size=1M read-only=on",
         {"execute": "blockdev-add", "arguments": {
             "driver": "qcow2", "node-name": "disk2", "file": "disk1",
             "cache-size": 1 << 20, "read-only": True}}),
        ("object-add qom-type=rng-random id=rng0 filename=/dev/urandom",
         {"execute": "object-add", "arguments": {
             "qom-type": "rng-random", "id": "rng0", "filename": "/dev/urandom"}}),
        ("object-add qom-type=memory-backend-ram id=mem0 size=64M",
         {"execute": "object-add", "arguments": {
             "qom-type": "memory-backend-ram", "id": "mem0", "size": 64 << 20}}),
        ("chardev-add id=c0 backend.type=file backend.data.out=/tmp/x",
         {"execute": "chardev-add", "arguments": {
             "id": "c0", "backend": {"type": "file", "data": {"out": "/tmp/x"}}}}),
        ("migrate-set-parameters max-bandwidth=1G downtime-limit=300 tls-creds=null "
         "tls-hostname=\"\" multifd-compression=zstd",
         {"execute": "migrate-set-parameters", "arguments": {
             "max-bandwidth": 1 << 30, "downtime-limit": 300, "tls-creds": None,
             "tls-hostname": "", "multifd-compression": "zstd"}}),
        ("transaction( blockdev-snapshot-sync device=ide-hd0 snapshot-file=/x format=qcow2 "
         "mode=existing ; abort )",
         {"execute": "transaction", "arguments": {"actions": [
             {"type": "blockdev-snapshot-sync", "data": {
                 "device": "ide-hd0", "snapshot-file": "/x", "format": "qcow2",
                 "mode": "existing"}},
             {"type": "abort", "data": {}}]}}),
        ("eject force device=cd0", {"execute": "eject", "arguments": {
            "force": True, "device": "cd0"}}),
        ("device_add driver=virtio-blk-pci drive=disk1 id=vd0 addr=0x5",
         {"execute": "device_add", "arguments": {
             "driver": "virtio-blk-pci", "drive": "disk1", "id": "vd0", "addr": "0x5"}}),
        ("netdev_add type=user id=n0 ipv6=off hostfwd=[{\"str\": \"tcp::2222-:22\"}]",
         {"execute": "netdev_add", "arguments": {
             "type": "user", "id": "n0", "ipv6": False, "hostfwd": [{"str": "tcp::2222-:22"}]}}),
    ],
)
def test_qemu_7_2_nested_lines(line: str, request_: dict[str, Any]) -> None:
    assert parse_line(line, LIVE) == request_
    assert parse_line(format_request(request_, LIVE), LIVE) == request_


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("blockdev-add driver=qcow2 node-name=d file.driver=fille file.filename=/x",
         "blockdev-add: file.driver: expected one of: blkdebug, blklogwrites, blkreplay, "
         "blkverify, bochs, cloop, compress, copy-before-write, copy-on-read, dmg, file, "
         "snapshot-access, ...; got 'fille' (did you mean 'file'?)"),
        ("blockdev-add driver=file node-name=d filename=/x lazy-refcounts=on",
         "blockdev-add: unknown argument 'lazy-refcounts'"),
        ("blockdev-add driver=qcow2 node-name=d file.driver=file",
         "blockdev-add: missing required argument 'file.filename' (string)"),
        ("blockdev-add node-name=d",
         "blockdev-add: missing required argument 'driver' (one of: blkdebug, blklogwrites, "
         "blkreplay, blkverify, bochs, cloop, compress, copy-before-write, ...)"),
        ("chardev-add id=c0 backend.type=file backend.data.outt=/x",
         "chardev-add: unknown argument 'backend.data.outt' (did you mean "
         "'backend.data.out'?)"),
        ("transaction( blockdev-snapshot-sync device=d snapshot-file=/x mode=existin )",
         "blockdev-snapshot-sync: mode: expected one of: existing, absolute-paths; "
         "got 'existin' (did you mean 'existing'?)"),
        ("transaction( blockdev-snapshot-snyc device=d snapshot-file=/x )",
         "unknown transaction action 'blockdev-snapshot-snyc' "
         "(did you mean 'blockdev-snapshot-sync'?)"),
        ("migrate-set-parameters max-bandwidth=lots",
         "migrate-set-parameters: max-bandwidth: expected an integer such as 42, -1, "
         "0x1000 or 4k, got 'lots'"),
    ],
)
def test_qemu_7_2_errors(line: str, message: str) -> None:
    with pytest.raises(ParseError) as info:
        parse_line(line, LIVE)
    assert info.value.message == message
