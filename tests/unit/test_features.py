"""Deprecated and unstable commands, arguments and enum values of QEMU 7.2's
saved schema: marked in help and completion, warned about in the toolbar."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qmpshell.prompt.completion import static_candidates, suggest
from qmpshell.prompt.toolbar import toolbar_fragments
from qmpshell.runner.help import command_help, command_list
from qmpshell.schema import cache
from qmpshell.schema.features import deprecation_warnings, request_flags
from qmpshell.schema.introspect import merge_schemas, schema_from_qapi
from qmpshell.schema.model import Schema
from qmpshell.schema.table import load_bundled_schema

FIXTURES = Path(__file__).parents[1] / "fixtures"


@pytest.fixture(scope="module")
def qemu72() -> Schema:
    reply = json.loads((FIXTURES / "qemu-7.2-query-qmp-schema.json").read_text())
    return merge_schemas(schema_from_qapi(reply), load_bundled_schema())


def metas(line: str, schema: Schema, **kw: bool) -> dict[str, str]:
    return {c.text: c.meta for c in static_candidates(suggest(line, schema, **kw), schema)}


def toolbar(line: str, schema: Schema, **kw: bool) -> list[tuple[str, str]]:
    return toolbar_fragments(line, schema, **kw)  # type: ignore[arg-type]


def test_enum_values_keep_their_features(qemu72: Schema) -> None:
    args = qemu72.members_for(qemu72.command("migrate-set-capabilities").args_type)  # type: ignore[union-attr]
    element = qemu72.resolve(qemu72.resolve(args[0].type).element)
    capability = qemu72.resolve(element.member("capability").type)  # type: ignore[union-attr]
    assert capability.features_of("x-colo") == ("unstable",)
    assert capability.features_of("events") == ()


def test_the_cache_keeps_enum_value_features(qemu72: Schema, tmp_path: Path) -> None:
    assert cache.store(tmp_path, "k", qemu72, "d", "7.2.0 x86_64")
    entry = cache.load(tmp_path, "k")
    assert entry is not None and entry.qemu == "7.2.0 x86_64"
    assert request_flags(entry.schema, {"execute": "transaction", "arguments": {"actions": [
        {"type": "drive-backup", "data": {}}]}}) == [("drive-backup", "deprecated")]


@pytest.mark.parametrize(("request_", "expected"), [
    ({"execute": "drive-backup", "arguments": {"device": "d", "target": "/t", "sync": "full"}},
     [("drive-backup", "deprecated")]),
    ({"execute": "block-commit", "arguments": {"device": "d", "base": "b"}},
     [("base", "deprecated")]),
    ({"execute": "transaction", "arguments": {"actions": [
        {"type": "blockdev-snapshot-sync", "data": {"device": "d", "snapshot-file": "/s"}},
        {"type": "drive-backup", "data": {"device": "d", "target": "/t", "sync": "full"}}]}},
     [("drive-backup", "deprecated")]),
    ({"execute": "migrate-set-capabilities", "arguments": {"capabilities": [
        {"capability": "x-colo", "state": True}]}}, [("x-colo", "unstable")]),
    ({"execute": "x-query-jit"}, [("x-query-jit", "unstable")]),
    ({"execute": "query-status"}, []),
    ({"execute": "no-such-command"}, []),
])
def test_what_a_request_uses(qemu72: Schema, request_: dict[str, object],
                             expected: list[tuple[str, str]]) -> None:
    assert request_flags(qemu72, request_) == expected


def test_only_deprecated_uses_are_warned_about(qemu72: Schema) -> None:
    assert deprecation_warnings(qemu72, {"execute": "drive-backup"}) == [
        "'drive-backup' is deprecated"]
    assert deprecation_warnings(qemu72, {"execute": "x-query-jit"}) == []


def test_help_marks_commands_arguments_and_values(qemu72: Schema) -> None:
    listed = command_list(qemu72)
    assert any(line.split()[:2] == ["drive-backup", "(deprecated)"] for line in listed.splitlines())
    assert any(line.split()[:2] == ["x-query-jit", "(unstable)"] for line in listed.splitlines())
    assert "(deprecated" in command_help(qemu72, "drive-backup").splitlines()[1]
    assert "(unstable" in command_help(qemu72, "x-query-jit").splitlines()[1]
    commit = command_help(qemu72, "block-commit")
    assert any(row.split()[0] == "base" and "optional, deprecated" in row
               for row in commit.splitlines() if row.startswith("  ") and row.split())
    backup = command_help(qemu72, "drive-backup")
    assert any(r.split()[0] == "x-perf" and "optional, unstable" in r
               for r in backup.splitlines() if r.startswith("  ") and r.split())


def test_help_lists_marked_enum_values(qemu72: Schema) -> None:
    text = command_help(qemu72, "object-add")
    assert "qom-type values: " in text and "x-remote-object (unstable)" in text


def test_completion_marks_commands_arguments_and_values(qemu72: Schema) -> None:
    assert metas("drive-b", qemu72)["drive-backup"].startswith("(deprecated)")
    assert metas("x-query-j", qemu72)["x-query-jit"].startswith("(unstable)")
    assert metas("block-commit ", qemu72)["base="].split(" - ")[0].endswith("deprecated")
    assert "unstable" in metas("drive-backup ", qemu72)["x-perf."]
    qom_types = metas("object-add qom-type=x-", qemu72)
    assert qom_types["x-remote-object"].endswith("unstable")
    assert "unstable" not in metas("object-add qom-type=iothr", qemu72)["iothread"]
    assert "deprecated" in metas("drive-", qemu72, transaction=True)["drive-backup"]


def test_toolbar_warns_about_deprecated_and_notes_unstable(qemu72: Schema) -> None:
    frags = toolbar("drive-backup device=d", qemu72)
    assert ("class:toolbar.warning", "warning: 'drive-backup' is deprecated") in frags
    frags = toolbar("block-commit device=d base=b", qemu72)
    assert ("class:toolbar.warning", "warning: 'base' is deprecated") in frags
    frags = toolbar("drive-backup device=d", qemu72, transaction=True)
    assert ("class:toolbar.warning", "warning: 'drive-backup' is deprecated") in frags
    frags = toolbar("x-query-jit", qemu72)
    assert ("class:toolbar.idle", "'x-query-jit' is unstable") in frags
    assert not [f for f in toolbar("query-status", qemu72) if "toolbar.warning" in f[0]]
