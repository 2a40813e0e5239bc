"""Lines typed and checked by QEMU 7.2's own schema: nested keys, unions,
alternates, enums, arrays, sizes, 'any' -- through the shorthand parser."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from conftest import FIXTURES

from qmpshell.errors import ParseError
from qmpshell.schema.introspect import merge_schemas, schema_from_commands, schema_from_qapi
from qmpshell.schema.model import Schema
from qmpshell.schema.table import load_bundled_schema

shorthand = pytest.importorskip("qmpshell.shorthand.parser")

REPLY = json.loads((FIXTURES / "qemu-7.2-query-qmp-schema.json").read_text())
QCOW2 = "blockdev-add driver=qcow2 node-name=d file.driver=file file.filename=/d.qcow2 "
FILE = {"driver": "file", "filename": "/d.qcow2"}
MASKED_NAME = re.compile(r"\((\[?\d+\]?)\)|'\[?\d+\]?'|\btype \[?\d+|\[\d+\]")
"""How a masked QAPI type name ('49', '[10]') would show if it leaked into a message."""


@pytest.fixture(scope="module")
def schema() -> Schema:
    return merge_schemas(schema_from_qapi(REPLY), load_bundled_schema())


def arguments(line: str, schema: Schema) -> dict[str, Any]:
    request = shorthand.parse_line(line, schema)
    assert request is not None
    args: dict[str, Any] = request.get("arguments", {})
    return args


TYPED = [
    # blockdev-add: the BlockdevOptions union, its branch chosen by 'driver'
    (QCOW2, {"driver": "qcow2", "node-name": "d", "file": FILE}),
    ("blockdev-add node-name=d file=proto0 driver=qcow2 lazy-refcounts=on",
     {"node-name": "d", "file": "proto0", "driver": "qcow2", "lazy-refcounts": True}),
    (QCOW2 + "file.aio=native cache-size=1M l2-cache-size=0x10000 read-only",
     {"driver": "qcow2", "node-name": "d", "file": {**FILE, "aio": "native"},
      "cache-size": 1 << 20, "l2-cache-size": 0x10000, "read-only": True}),
    (QCOW2 + "overlap-check=constant", {"overlap-check": "constant"}),
    (QCOW2 + "overlap-check.template=all overlap-check.main-header=false",
     {"overlap-check": {"template": "all", "main-header": False}}),
    (QCOW2 + "encrypt.format=luks encrypt.key-secret=s0",
     {"encrypt": {"format": "luks", "key-secret": "s0"}}),
    (QCOW2 + "backing=null", {"backing": None}),
    (QCOW2 + 'backing="null"', {"backing": "null"}),
    (QCOW2 + "backing.driver=raw backing.file.driver=file backing.file.filename=/b",
     {"backing": {"driver": "raw", "file": {"driver": "file", "filename": "/b"}}}),
    ("blockdev-add driver=raw node-name=d file.driver=nbd file.server.type=unix "
     "file.server.path=/s file.export=e",
     {"file": {"driver": "nbd", "server": {"type": "unix", "path": "/s"}, "export": "e"}}),
    ("blockdev-add driver=quorum node-name=q vote-threshold=2 children.0.driver=file "
     "children.0.filename=/a children.1=b",
     {"children": [{"driver": "file", "filename": "/a"}, "b"], "vote-threshold": 2}),
    # object-add: ObjectOptions, a union on 'qom-type'
    ("object-add qom-type=memory-backend-file id=m size=64M mem-path=/dev/shm share=true "
     "host-nodes=[0] policy=bind",
     {"qom-type": "memory-backend-file", "id": "m", "size": 64 << 20, "mem-path": "/dev/shm",
      "share": True, "host-nodes": [0], "policy": "bind"}),
    ("object-add qom-type=throttle-group id=tg limits.iops-total=100",
     {"limits": {"iops-total": 100}}),
    # chardev-add: a union nested in a union ('data' wrappers of simple unions)
    ("chardev-add id=c0 backend.type=socket backend.data.addr.type=unix "
     "backend.data.addr.data.path=/c.sock backend.data.server=true backend.data.wait=false",
     {"id": "c0", "backend": {"type": "socket", "data": {
         "addr": {"type": "unix", "data": {"path": "/c.sock"}},
         "server": True, "wait": False}}}),
    ("chardev-add id=c0 backend.type=ringbuf backend.data.size=64k",
     {"backend": {"type": "ringbuf", "data": {"size": 65536}}}),
    # migrate-set-parameters: sizes, ints, StrOrNull alternates, enums, nested arrays
    ("migrate-set-parameters max-bandwidth=1G downtime-limit=300 tls-creds=null "
     "tls-hostname=host multifd-compression=zstd",
     {"max-bandwidth": 1 << 30, "downtime-limit": 300, "tls-creds": None,
      "tls-hostname": "host", "multifd-compression": "zstd"}),
    ("migrate-set-parameters block-bitmap-mapping.0.node-name=n "
     "block-bitmap-mapping.0.alias=a block-bitmap-mapping.0.bitmaps.0.name=b "
     "block-bitmap-mapping.0.bitmaps.0.alias=c",
     {"block-bitmap-mapping": [{"node-name": "n", "alias": "a",
                                "bitmaps": [{"name": "b", "alias": "c"}]}]}),
    # 'any' taken as JSON, strings otherwise
    ("qom-set path=/m property=p value=42", {"value": 42}),
    ('qom-set path=/m property=p value={"a": [1, "x"]}', {"value": {"a": [1, "x"]}}),
    ('qom-set path=/m property=p value="42"', {"value": "42"}),
    # device_add: properties its schema does not list
    ("device_add driver=virtio-blk-pci drive=scratch id=v0 num-queues=2",
     {"driver": "virtio-blk-pci", "drive": "scratch", "id": "v0", "num-queues": 2}),
    # arrays of enums
    ("qmp_capabilities enable.0=oob", {"enable": ["oob"]}),
    ("block_resize node-name=disk1 size=1.5G", {"node-name": "disk1", "size": 3 << 29}),
]


@pytest.mark.parametrize(("line", "expected"), TYPED)
def test_lines_are_typed_by_the_live_schema(
        schema: Schema, line: str, expected: dict[str, Any]) -> None:
    got = arguments(line, schema)
    assert {k: got.get(k) for k in expected} == expected


REFUSED = [
    ("blockdev-add driver=qcw2 node-name=d file=f", "driver", "did you mean 'qcow2'"),
    (QCOW2 + "file.aio=natve", "file.aio", "did you mean 'native'"),
    (QCOW2 + "discard=unmapp", "discard", "did you mean 'unmap'"),
    (QCOW2 + "lazy-refcount=on", "lazy-refcount", "did you mean 'lazy-refcounts'"),
    ("blockdev-add driver=raw node-name=d file=f lazy-refcounts=on", "lazy-refcounts",
     "unknown argument"),
    ("blockdev-add driver=qcow2 node-name=d file.driver=file", "file.filename", "missing"),
    ("blockdev-add node-name=d file=f", "driver", "missing"),
    (QCOW2 + "overlap-check=sometimes", "overlap-check", "object or one of: none"),
    (QCOW2 + "cache-clean-interval=1.5", "cache-clean-interval", "integer"),
    ("object-add qom-type=memory-backend-ram id=m size=1G mem-path=/x", "mem-path",
     "unknown argument"),
    ("object-add qom-type=memory-backend-file id=m size=1G mem-path=/x policy=bnd", "policy",
     "did you mean 'bind'"),
    ("chardev-add id=c0 backend.type=sockett", "backend.type", "did you mean 'socket'"),
    ("chardev-add id=c0 backend.type=socket", "backend.data", "missing"),
    ("migrate-set-parameters compress-level=nine", "compress-level", "integer"),
    ("migrate-set-parameters multifd-compression=zstdd", "multifd-compression",
     "did you mean 'zstd'"),
    ("device_add drive=scratch", "driver", "missing"),
    ("qmp_capabilities enable.0=ob", "enable.0", "did you mean 'oob'"),
    ("query-blok", "query-blok", "did you mean 'query-block'"),
    # two keys swapped: the swap back is suggested before a name with a letter less
    ("query-stauts", "query-stauts", "did you mean 'query-status'"),
    ("block_resize devcie=scratch size=1G", "devcie", "did you mean 'device'"),
    ("query-cpus", "query-cpus", "unknown command"),  # the spec has it, QEMU 7.2 does not
]


@pytest.mark.parametrize(("line", "path", "says"), REFUSED)
def test_bad_lines_are_refused_naming_the_path(
        schema: Schema, line: str, path: str, says: str) -> None:
    with pytest.raises(ParseError) as caught:
        shorthand.parse_line(line, schema)
    message = str(caught.value)
    assert path in message and says in message
    assert caught.value.column > 0
    assert not MASKED_NAME.search(caught.value.message.replace(line, ""))


def test_transactions_type_each_action_by_its_union_branch(schema: Schema) -> None:
    line = ("transaction( blockdev-snapshot-sync device=d snapshot-file=/s format=qcow2 ; "
            "block-dirty-bitmap-add node=d name=b0 granularity=64k persistent=true ; abort )")
    assert arguments(line, schema) == {"actions": [
        {"type": "blockdev-snapshot-sync",
         "data": {"device": "d", "snapshot-file": "/s", "format": "qcow2"}},
        {"type": "block-dirty-bitmap-add",
         "data": {"node": "d", "name": "b0", "granularity": 65536, "persistent": True}},
        {"type": "abort", "data": {}}]}
    with pytest.raises(ParseError, match=r"sync: .*did you mean 'full'"):
        shorthand.parse_line("transaction( blockdev-backup device=d target=t sync=ful )",
                             schema)
    with pytest.raises(ParseError, match="did you mean 'block-dirty-bitmap-add'"):
        shorthand.parse_line("transaction( block-dirty-bitmap-ad node=d name=b0 )", schema)


@pytest.mark.parametrize("line", [line for line, _ in TYPED])
def test_typed_requests_render_back_to_the_same_request(schema: Schema, line: str) -> None:
    request = shorthand.parse_line(line, schema)
    assert shorthand.parse_line(shorthand.format_request(request, schema), schema) == request


def test_without_introspection_any_argument_goes_through() -> None:
    names = [c["name"] for c in
             json.loads((FIXTURES / "qemu-7.2-query-commands.json").read_text())["return"]]
    line = "blockdev-add driver=qcow2 node-name=d file.driver=file file.filename=/x"
    assert arguments(line, schema_from_commands(names)) == {
        "driver": "qcow2", "node-name": "d", "file": {"driver": "file", "filename": "/x"}}
