"""One reader of QEMU's version for the greeting, the cache key, the banner and .vms."""

from __future__ import annotations

from typing import Any

import pytest

from qmpshell.prompt.banner import describe_server
from qmpshell.qemuversion import qemu_version, version_text
from qmpshell.schema.cache import cache_key, format_qemu_version
from qmpshell.wire.protocol import qemu_major

VERSION = {"qemu": {"major": 7, "minor": 2, "micro": 22}, "package": "Debian 1:7.2+dfsg-7"}
GREETING = {"QMP": {"version": VERSION, "capabilities": ["oob"]}}


@pytest.mark.parametrize("info", [GREETING, GREETING["QMP"], VERSION])
def test_a_greeting_its_qmp_member_and_a_version_all_read_alike(info: dict[str, Any]) -> None:
    assert qemu_version(info) == (7, 2, 22)
    assert version_text(info) == "7.2.22"


@pytest.mark.parametrize("info", [
    None, {}, {"QMP": {}}, {"QMP": {"version": {}}}, {"QMP": {"version": {"qemu": "7.2"}}},
    {"QMP": {"version": {"qemu": {"minor": 2}}}},
    {"QMP": {"version": {"qemu": {"major": "7"}}}},
    {"QMP": {"version": {"qemu": {"major": True}}}},
])
def test_no_major_number_is_no_version(info: dict[str, Any] | None) -> None:
    assert qemu_version(info) is None
    assert version_text(info) == "" and version_text(info, "?") == "?"


def test_a_missing_or_odd_minor_or_micro_reads_as_zero() -> None:
    assert qemu_version({"qemu": {"major": 8}}) == (8, 0, 0)
    assert qemu_version({"qemu": {"major": 8, "minor": "1", "micro": None}}) == (8, 0, 0)


def test_every_reader_agrees_on_an_incomplete_greeting() -> None:
    odd: dict[str, Any] = {"QMP": {"version": {"qemu": {"major": 2, "minor": 12}},
                               "capabilities": []}}
    assert describe_server(odd, "", "/run/vm.sock") == "QEMU 2.12.0 at /run/vm.sock"
    assert format_qemu_version(odd["QMP"]["version"]) == "2.12.0"
    assert cache_key(odd, "x86_64").startswith("2.12.0-x86_64-")
    assert qemu_major(odd) == 2
    none: dict[str, Any] = {"QMP": {"version": {}, "capabilities": []}}
    assert describe_server(none, "", "/run/vm.sock") == "QEMU at /run/vm.sock"
    assert format_qemu_version({}) == "?.?.?"
    assert cache_key(none).startswith("x.x.x-any-")
    assert qemu_major(none) == 0
