"""Recordings: header, masking, what is written and what is not, and a
recorded file that replays through the shorthand parser to the same requests."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from qmpshell.errors import QmpShellError
from qmpshell.runner.recorder import (
    SECRETS_NOTE,
    Recorder,
    RecordError,
    header,
    request_line,
)
from qmpshell.schema.cache import format_qemu_version
from qmpshell.schema.model import Schema
from qmpshell.secrets import MASK
from qmpshell.shorthand.dotcommands import DOT_COMMANDS

STARTED = datetime(2026, 11, 25, 19, 30, 5, tzinfo=timezone(timedelta(hours=1)))


def no_shorthand(request: dict[str, Any], schema: Schema | None) -> str | None:
    return None


def simple(request: dict[str, Any], schema: Schema | None) -> str | None:
    """A stand-in writer: only flat string arguments."""
    args = request.get("arguments", {})
    if not all(isinstance(v, str) for v in args.values()):
        return None
    return " ".join([request["execute"], *(f"{k}={v}" for k, v in args.items())])


def lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def test_header() -> None:
    assert header(STARTED, "7.2.0") == (
        "# qmpshell session recorded 2026-11-25 19:30:05 +0100 against QEMU 7.2.0\n"
        "# replay: qmpshell ADDRESS -f FILE; secrets are masked (********): the replay "
        "asks for each at a terminal, or give --secret NAME=VALUE, --secret NAME=@FILE or "
        "$QMPSHELL_SECRET_NAME\n")
    assert header(STARTED, None).startswith(
        "# qmpshell session recorded 2026-11-25 19:30:05 +0100\n")
    assert header(STARTED, None, ["a"]) == header(STARTED, None)
    # several VMs: the recorded @NAME lines need the same names on the replay's command line
    assert header(STARTED, None, ["src", "dst"]).splitlines()[1].startswith(
        "# replay: qmpshell src=ADDRESS dst=ADDRESS -f FILE; secrets are masked")


def test_format_qemu_version() -> None:
    reply = json.loads((Path(__file__).parents[1] / "fixtures" /
                        "qemu-7.2-query-version.json").read_text())
    version = reply.get("return", reply)
    assert format_qemu_version(version) == "7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)"
    assert format_qemu_version({"qemu": {"major": 8, "minor": 1, "micro": 2},
                                "package": ""}) == "8.1.2"
    assert format_qemu_version({"qemu": {"major": 7, "minor": 2, "micro": 0},
                                "package": " Debian 1:7.2+dfsg-7 "}) == \
        "7.2.0 (Debian 1:7.2+dfsg-7)"


def test_requests_are_written_with_the_formatter_and_flushed(tmp_path: Path) -> None:
    path = tmp_path / "s.qmp"
    rec = Recorder(path, qemu_version="7.2.0", formatter=simple, started=STARTED)
    rec.record_request({"execute": "query-status"})
    # flushed per line: visible before close
    assert lines(path)[-1] == "query-status"
    rec.record_request({"execute": "block_resize",
                        "arguments": {"device": "scratch", "size": 1073741824}})
    rec.close()
    assert lines(path) == [
        "# qmpshell session recorded 2026-11-25 19:30:05 +0100 against QEMU 7.2.0",
        "# replay: qmpshell ADDRESS -f FILE; " + SECRETS_NOTE,
        "query-status",
        '{"execute": "block_resize", "arguments": {"device": "scratch", "size": 1073741824}}',
    ]


def test_secrets_are_masked_everywhere(tmp_path: Path) -> None:
    path = tmp_path / "s.qmp"
    request = {"execute": "set_password", "arguments": {"protocol": "vnc",
                                                         "password": "hunter2"}}
    with Recorder(path, qemu_version=None, formatter=simple, started=STARTED) as rec:
        rec.record_request(request)
        rec.record_dot(".echo password=hunter2")
    with Recorder(path, qemu_version=None, formatter=no_shorthand, started=STARTED) as rec:
        rec.record_request({"execute": "object-add", "arguments": {
            "qom-type": "secret", "id": "s0", "props": {"data": "x", "secret": "hunter2"}}})
    text = path.read_text()
    assert "hunter2" not in text
    assert f"set_password protocol=vnc password={MASK}" in text
    assert f".echo password={MASK}" in text
    assert request["arguments"]["password"] == "hunter2", "the caller's request is untouched"


def test_the_formatter_sees_the_masked_request(tmp_path: Path) -> None:
    seen: list[dict[str, Any]] = []

    def spy(request: dict[str, Any], schema: Schema | None) -> str | None:
        seen.append(request)
        return None

    request_line({"execute": "x", "arguments": {"new-secret": "s"}}, None, spy)
    assert seen == [{"execute": "x", "arguments": {"new-secret": MASK}}]


def test_json_when_the_shorthand_cannot_say_it() -> None:
    request = {"execute": "transaction", "arguments": {"actions": []}}
    assert request_line(request, None, no_shorthand) == json.dumps(request)
    assert request_line(request, None, None) == json.dumps(request)
    assert request_line(request, None, lambda r, s: "   ") == json.dumps(request)


def test_dot_commands(tmp_path: Path) -> None:
    path = tmp_path / "s.qmp"
    with Recorder(path, qemu_version=None, formatter=simple, started=STARTED) as rec:
        assert rec.record(".wait RESUME timeout=5")
        assert rec.record("  .sleep 0.5")
        assert rec.record(".echo hello world")
        assert rec.record(".hmp info block")
        assert not rec.record(".help block_resize")
        assert not rec.record(".record off")
        assert not rec.record(".record other.qmp")
        assert not rec.record(".quit")
        assert not rec.record("# a comment")
        assert not rec.record("")
        assert rec.record("stop", {"execute": "stop"})
    assert lines(path)[2:] == [".wait RESUME timeout=5", ".sleep 0.5", ".echo hello world",
                               ".hmp info block", "stop"]
    assert {".wait", ".sleep", ".echo", ".hmp", ".connect", ".disconnect", ".use"} == {
        d.name for d in DOT_COMMANDS if d.replayed}


def test_appending_keeps_the_earlier_recording(tmp_path: Path) -> None:
    path = tmp_path / "s.qmp"
    with Recorder(path, qemu_version="7.2.0", formatter=simple, started=STARTED) as rec:
        rec.record_request({"execute": "stop"})
    with Recorder(path, qemu_version="7.2.0", formatter=simple, started=STARTED) as rec:
        rec.record_request({"execute": "cont"})
    got = lines(path)
    assert got[2] == "stop"
    assert got[3] == ""
    assert got[4].startswith("# qmpshell session recorded")
    assert got[6] == "cont"


def test_errors_are_record_errors(tmp_path: Path) -> None:
    with pytest.raises(RecordError) as info:
        Recorder(tmp_path / "no" / "such" / "dir.qmp", qemu_version=None)
    assert str(info.value) == \
        f"cannot record to {tmp_path}/no/such/dir.qmp: No such file or directory"
    assert isinstance(info.value, QmpShellError)
    rec = Recorder(tmp_path / "s.qmp", qemu_version=None, formatter=simple)
    rec.close()
    rec.close()
    assert rec.closed
    with pytest.raises(RecordError):
        rec.record_request({"execute": "stop"})


def test_disk_full_is_a_record_error() -> None:
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full here")
    with pytest.raises(RecordError) as info:
        Recorder(Path("/dev/full"), qemu_version=None)
    assert "No space left on device" in str(info.value)


# -- replay through the real shorthand parser ------------------------------------

FIXTURES = Path(__file__).parents[1] / "fixtures"

REQUESTS: list[dict[str, Any]] = [
    {"execute": "query-status"},
    {"execute": "block_resize", "arguments": {"device": "scratch", "size": 1073741824}},
    {"execute": "device_del", "arguments": {"id": "123"}},
    {"execute": "blockdev-add", "arguments": {
        "driver": "qcow2", "node-name": "n1",
        "file": {"driver": "file", "filename": "/tmp/a b \"q\".qcow2"}}},
    {"execute": "transaction", "arguments": {"actions": [
        {"type": "blockdev-snapshot-sync",
         "data": {"device": "scratch", "snapshot-file": "/tmp/s.qcow2", "format": "qcow2"}},
        {"type": "drive-backup",
         "data": {"device": "scratch", "target": "/tmp/b.qcow2", "sync": "full"}}]}},
    {"execute": "human-monitor-command", "arguments": {"command-line": "info block"}},
    {"execute": "set_password", "arguments": {"protocol": "vnc", "password": "hunter2"}},
    {"execute": "qom-set", "arguments": {"path": "/machine", "property": "x", "value": True}},
    {"exec-oob": "migrate-pause"},
    {"execute": "no-such-command", "arguments": {"x": [1, 2]}},
]


def live_schema() -> Schema:
    from qmpshell.schema.introspect import schema_from_qapi

    return schema_from_qapi(json.loads((FIXTURES / "qemu-7.2-query-qmp-schema.json").read_text()))


def replay(path: Path, schema: Schema) -> tuple[list[dict[str, Any]], list[str]]:
    """(requests, dot-command lines) a replay of ``path`` would run."""
    from qmpshell.shorthand.parser import ShorthandParser

    parser = ShorthandParser(schema)
    requests, dots = [], []
    for line in lines(path):
        if line.lstrip().startswith("."):
            dots.append(line.strip())
            continue
        request = parser.feed(line)
        if request is not None:
            requests.append(request)
    assert not parser.in_transaction
    return requests, dots


def masked(request: dict[str, Any]) -> dict[str, Any]:
    from qmpshell.secrets import mask_request

    return mask_request(request)


def test_a_recording_replays_to_the_same_requests(tmp_path: Path) -> None:
    schema = live_schema()
    path = tmp_path / "s.qmp"
    with Recorder(path, qemu_version="7.2.22", schema=schema, started=STARTED) as rec:
        for request in REQUESTS:
            rec.record_request(request)
        rec.record(".wait RESUME timeout=5")
        rec.record(".help quit")
    got, dots = replay(path, schema)
    assert got == [masked(r) for r in REQUESTS]
    assert dots == [".wait RESUME timeout=5"]
    text = path.read_text()
    assert "hunter2" not in text
    # shorthand where it can say it, one line of JSON where it cannot
    assert "block_resize device=scratch size=1073741824" in lines(path)
    json_lines = [json.loads(line) for line in lines(path) if line.startswith("{")]
    assert json_lines == [{"exec-oob": "migrate-pause"},
                          {"execute": "no-such-command", "arguments": {"x": [1, 2]}}]


def test_default_writer_is_the_shorthand_one(tmp_path: Path) -> None:
    from qmpshell.schema.table import load_bundled_schema

    schema = load_bundled_schema()
    path = tmp_path / "s.qmp"
    with Recorder(path, qemu_version=None, schema=schema, started=STARTED) as rec:
        # a raw JSON line is recorded as shorthand when the shorthand can say it
        rec.record('{"execute": "block_resize", "arguments": {"device": "d", "size": 4096}}',
                   {"execute": "block_resize", "arguments": {"device": "d", "size": 4096}})
        rec.record_request({"execute": "stop"})
    assert lines(path)[2:] == ["block_resize device=d size=4k", "stop"]
    assert replay(path, schema)[0] == [
        {"execute": "block_resize", "arguments": {"device": "d", "size": 4096}},
        {"execute": "stop"}]
