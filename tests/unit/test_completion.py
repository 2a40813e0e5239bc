"""What completes where: the pure suggest core over hand-built and real
(QEMU 7.2) schemas, and the prompt_toolkit completer fed Documents."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from prompt_toolkit.completion import CompleteEvent
from prompt_toolkit.document import Document

from qmpshell.prompt.completion import (
    NONE,
    Candidate,
    LiveValues,
    QmpCompleter,
    Suggestion,
    given_arguments,
    hmp_commands,
    split_words,
    static_candidates,
    suggest,
    tab_choice,
    transaction_actions,
)
from qmpshell.schema.model import Command, Member, Schema, TypeInfo

FIXTURES = Path(__file__).parents[1] / "fixtures"


def small_schema() -> Schema:
    """A few commands shaped like the bundled table's, plus a flat union."""
    types = {
        "block_resize.arguments": TypeInfo("block_resize.arguments", "object", members=(
            Member("device", "str", optional=True, hint="block-device", doc="the drive"),
            Member("node-name", "str", optional=True, hint="node-name"),
            Member("size", "size", doc="new size in bytes"),
        )),
        "eject.arguments": TypeInfo("eject.arguments", "object", members=(
            Member("device", "str", hint="block-device"),
            Member("force", "bool", optional=True),
        )),
        "qom-get.arguments": TypeInfo("qom-get.arguments", "object", members=(
            Member("path", "str", hint="qom-path"), Member("property", "str"),
        )),
        "Driver": TypeInfo("Driver", "enum", values=("file", "qcow2", "raw")),
        "Opts": TypeInfo("Opts", "object", members=(
            Member("driver", "Driver"), Member("node-name", "str", optional=True),
        ), tag="driver", variants=(("file", "Opts-file"), ("qcow2", "Opts-qcow2"))),
        "Opts-file": TypeInfo("Opts-file", "object", members=(Member("filename", "file"),)),
        "Opts-qcow2": TypeInfo("Opts-qcow2", "object", members=(
            Member("file", "Opts"), Member("lazy-refcounts", "bool", optional=True),
        )),
    }
    commands = {
        "block_resize": Command("block_resize", "block_resize.arguments",
                                title="Resize a block image"),
        "eject": Command("eject", "eject.arguments", title="Eject a removable medium"),
        "query-status": Command("query-status", "empty", group="query",
                                title="Query the run status"),
        "query-block": Command("query-block", "empty", group="query"),
        "qom-get": Command("qom-get", "qom-get.arguments"),
        "blockdev-add": Command("blockdev-add", "Opts"),
        "old-thing": Command("old-thing", "empty", features=("deprecated",)),
    }
    return Schema(commands=commands, types=types, source="test")


@pytest.fixture(scope="module")
def qemu72() -> Schema:
    from qmpshell.schema.introspect import schema_from_qapi
    reply = json.loads((FIXTURES / "qemu-7.2-query-qmp-schema.json").read_text())
    return schema_from_qapi(reply)


def texts(line: str, schema: Schema, **kw: Any) -> list[str]:
    return [c.text for c in static_candidates(suggest(line, schema, **kw), schema)]


# -- reading the line -------------------------------------------------------

def test_split_words_keeps_quotes_and_json_whole() -> None:
    w = split_words('cmd a="x y" b={"k": [1, 2]} c')
    assert w is not None
    assert w.done == ["cmd", 'a="x y"', 'b={"k": [1, 2]}']
    assert w.current == "c" and not w.open


def test_split_words_reports_open_quote_and_comment() -> None:
    w = split_words('cmd a="x y')
    assert w is not None and w.open
    assert split_words("cmd a=1 # note") is None
    assert split_words('cmd a="#not a comment" ') is not None


def test_given_arguments_nest_dotted_keys() -> None:
    assert given_arguments(["driver=qcow2", "file.driver=file", "force"]) == {
        "driver": "qcow2", "file": {"driver": "file"}, "force": True}


# -- kinds --------------------------------------------------------------------

def test_command_names_at_the_start() -> None:
    s = small_schema()
    sg = suggest("block_r", s)
    assert sg.kind == "command" and sg.prefix == "block_r"
    assert texts("block_r", s) == ["block_resize"]
    assert texts("  query-", s) == ["query-block", "query-status"]


def test_dash_and_underscore_match_alike() -> None:
    assert texts("block-re", small_schema()) == ["block_resize"]


def test_command_meta_is_the_title_and_marks_deprecated() -> None:
    s = small_schema()
    by_name = {c.text: c.meta for c in static_candidates(suggest("", s), s)}
    assert by_name["block_resize"] == "Resize a block image"
    assert by_name["old-thing"].startswith("(deprecated)")


def test_dot_commands() -> None:
    s = small_schema()
    assert suggest(".w", s).kind == "dot-command"
    assert texts(".w", s) == [".wait", ".watch"]
    assert ".connect" in texts(".", s) and ".pager" in texts(".", s)


def test_dot_command_arguments() -> None:
    s = small_schema()
    assert texts(".help block_", s) == ["block_resize"]
    assert texts(".pager o", s) == ["on", "off"]
    assert texts(".format ", s) == ["table", "json"]
    assert texts(".watch block_", s) == ["block_resize"]
    s.events["STOP"] = s.events.get("STOP") or _event("STOP")
    assert texts(".wait ST", s) == ["STOP"]
    assert suggest(".record /tm", s).hint == "file"


def _event(name: str) -> Any:
    from qmpshell.schema.model import Event
    return Event(name)


def test_arguments_required_first_with_equals() -> None:
    s = small_schema()
    assert texts("block_resize ", s) == ["size=", "device=", "node-name="]
    assert texts("block_resize dev", s) == ["device="]


def test_arguments_already_given_are_not_offered() -> None:
    s = small_schema()
    assert texts("block_resize device=scratch ", s) == ["size=", "node-name="]
    assert texts("eject force ", s) == ["device="]


def test_argument_meta_says_type_and_required() -> None:
    s = small_schema()
    metas = {c.text: c.meta for c in static_candidates(suggest("block_resize ", s), s)}
    assert metas["size="] == "size, required - new size in bytes"
    assert metas["device="] == "string - the drive"


def test_value_of_a_boolean_and_an_enum() -> None:
    s = small_schema()
    assert texts("eject device=cd force=", s) == ["true", "false"]
    assert texts("blockdev-add driver=q", s) == ["qcow2"]


def test_value_kind_carries_the_live_hint() -> None:
    sg = suggest("block_resize device=scr", small_schema())
    assert (sg.kind, sg.prefix, sg.path, sg.hint) == ("value", "scr", ("device",),
                                                      "block-device")


def test_union_branch_follows_the_tag_typed() -> None:
    s = small_schema()
    assert texts("blockdev-add ", s) == ["driver=", "node-name="]
    assert texts("blockdev-add driver=qcow2 ", s) == ["file.", "node-name=", "lazy-refcounts="]
    assert texts("blockdev-add driver=file ", s) == ["filename=", "node-name="]


def test_nested_members_after_a_dot() -> None:
    s = small_schema()
    sg = suggest("blockdev-add driver=qcow2 file.", s)
    assert sg.kind == "member" and sg.path == ("file",)
    assert texts("blockdev-add driver=qcow2 file.", s) == ["driver=", "node-name="]
    assert texts("blockdev-add driver=qcow2 file.driver=file file.", s) == [
        "filename=", "node-name="]
    assert suggest("blockdev-add driver=qcow2 file.driver=file file.filename=/t", s).hint == "file"


def test_nothing_inside_quotes_json_comments_or_unknown_commands() -> None:
    s = small_schema()
    for line in ('block_resize device="scr', 'block_resize size={"a', "block_resize # dev",
                 "nope ", '{"execute": "q', "block_resize ?"):
        assert suggest(line, s).kind == "none", line
        assert texts(line, s) == []


def test_unknown_argument_path_gives_nothing() -> None:
    assert suggest("blockdev-add nothing.x", small_schema()).kind == "none"


# -- QEMU 7.2's own schema ------------------------------------------------------

def test_qemu72_every_command_completes(qemu72: Schema) -> None:
    offered = set(texts("", qemu72))
    assert offered == set(qemu72.commands)
    assert len(offered) == 216


def test_qemu72_block_resize(qemu72: Schema) -> None:
    assert texts("block_r", qemu72) == ["block_resize"]
    assert texts("block_resize dev", qemu72) == ["device="]
    assert texts("block_resize ", qemu72)[0] == "size="


def test_qemu72_blockdev_add_union_and_nested(qemu72: Schema) -> None:
    assert "qcow2" in texts("blockdev-add driver=", qemu72)
    branch = texts("blockdev-add driver=qcow2 ", qemu72)
    assert "file=" in branch and "lazy-refcounts=" in branch and "cache." in branch
    assert "lazy-refcounts=" not in texts("blockdev-add driver=raw ", qemu72)
    nested = texts("blockdev-add driver=qcow2 file.driver=file file.", qemu72)
    assert nested[0] == "filename="
    assert texts("blockdev-add driver=qcow2 detect-zeroes=", qemu72) == ["off", "on", "unmap"]


def test_qemu72_transaction_actions(qemu72: Schema) -> None:
    actions = transaction_actions(qemu72)
    assert {"abort", "blockdev-snapshot-sync", "drive-backup"} <= set(actions)
    assert texts("blockdev-snapshot-s", qemu72, transaction=True) == ["blockdev-snapshot-sync"]
    args = texts("blockdev-snapshot-sync ", qemu72, transaction=True)
    assert args[0] == "snapshot-file=" and "device=" in args


def test_qemu72_value_hints_from_names(qemu72: Schema) -> None:
    assert suggest("block_resize device=", qemu72).hint == "block-device"
    assert suggest("device_del id=", qemu72).hint == "device-id"
    assert suggest("qom-list path=/", qemu72).hint == "qom-path"
    assert suggest("chardev-remove id=", qemu72).hint == "chardev"
    assert suggest("blockdev-del node-name=", qemu72).hint == "node-name"
    assert suggest("blockdev-add driver=raw node-name=", qemu72).hint == ""


def test_qemu72_every_argument_that_names_a_live_thing(qemu72: Schema) -> None:
    hints = {
        "blockdev-mirror device=": "block-node", "blockdev-mirror target=": "node-name",
        "block-stream device=": "block-node", "block-commit device=": "block-node",
        "block-commit base-node=": "node-name", "block-commit top-node=": "node-name",
        "block_resize node-name=": "node-name", "blockdev-add driver=raw file=": "node-name",
        "job-cancel id=": "job-id", "job-complete id=": "job-id",
        "block-job-cancel device=": "job-id",
        "block-dirty-bitmap-remove node=n0 name=": "bitmap:n0",
        "block-dirty-bitmap-clear name=": "bitmap",
        "block-dirty-bitmap-add node=n0 name=": "",
        "device_add driver=": "device-type",
        "qom-get path=/machine property=": "qom-property:/machine",
        "qom-set property=": "",
        ".hmp ": "hmp-command",
    }
    for line, hint in hints.items():
        assert suggest(line, qemu72).hint == hint, line
    assert suggest("device_add driver=virtio-blk-pci ", qemu72).hint == \
        "device-property:virtio-blk-pci"


def test_hmp_command_names_from_its_help() -> None:
    text = ("announce_self [interfaces] [id] -- Trigger GARP/RARP announcements\n"
            "block_job_cancel [-f] device -- stop an active background block operation\n"
            "\t\t\t if you want to abort the operation immediately\n"
            "info [subcommand] -- show various information about the system state\n"
            "q|quit  -- quit the emulator\n")
    names = [c.text for c in hmp_commands(text)]
    assert names == ["announce_self", "block_job_cancel", "info", "q", "quit"]


def test_bundled_table_completes() -> None:
    table = pytest.importorskip("qmpshell.schema.table")
    s = table.load_bundled_schema()
    assert texts("block_r", s) == ["block_resize"]
    assert texts("block_resize dev", s) == ["device="]
    assert suggest("block_resize device=", s).hint == "block-device"
    assert texts("block_resize device=x ", s)[0] == "size="
    # without a live action union, an action is typed as the command of its name
    assert texts("blockdev-snapshot-s", s, transaction=True) == ["blockdev-snapshot-sync"]
    assert "snapshot-file=" in texts("blockdev-snapshot-sync ", s, transaction=True)


# -- the prompt_toolkit completer ----------------------------------------------

class FakeServer:
    """Answers the look-ups LiveValues makes, counting them; with ``held``,
    only once the test sets it (a slow server, without waiting for real)."""

    def __init__(self, held: asyncio.Event | None = None) -> None:
        self.held = held
        self.calls: list[dict[str, Any]] = []

    async def execute(self, request: dict[str, Any]) -> dict[str, Any]:
        self.calls.append(request)
        if self.held is not None:
            await self.held.wait()
        name = request["execute"]
        if name == "query-block":
            return {"return": [{"device": "scratch", "inserted": {"file": "/x.qcow2"}},
                               {"device": "", "qdev": "anon"}]}
        if name == "query-named-block-nodes":
            return {"return": [{"node-name": "#block123", "drv": "qcow2"},
                               {"node-name": "disk0", "drv": "qcow2",
                                "dirty-bitmaps": [{"name": "bm0"}]}]}
        if name == "query-jobs":
            return {"return": [{"id": "mirror0", "type": "mirror", "status": "ready"}]}
        if name == "qom-list-types":
            return {"return": [{"name": "virtio-blk-pci", "parent": "virtio-pci"},
                               {"name": "e1000", "parent": "pci-device"}]}
        if name == "device-list-properties":
            return {"return": [{"name": "drive", "type": "str", "description": "Node name"},
                               {"name": "num-queues", "type": "uint16"}]}
        if name == "human-monitor-command" and request["arguments"]["command-line"] == "help info":
            return {"return": "info balloon  -- show balloon information\n"
                              "info block [-n] [-v] [device] -- show info of one block device\n"
                              "info block-jobs  -- show progress of ongoing block operations\n"}
        if name == "human-monitor-command":
            return {"return": "info [subcommand] -- show things\nstop|s  -- stop\n"}
        if name == "qom-list":
            path = request["arguments"]["path"]
            kids = {"/": ["machine", "objects"], "/machine": ["peripheral", "unattached"],
                    "/machine/peripheral": ["scratch-dev"]}.get(path, [])
            return {"return": [{"name": k, "type": f"child<{k}-type>"} for k in kids]
                    + [{"name": "type", "type": "string"}]}
        return {"error": {"class": "CommandNotFound", "desc": name}}


def complete(completer: QmpCompleter, line: str) -> list[Any]:
    async def run() -> list[Any]:
        return [c async for c in completer.get_completions_async(
            Document(line), CompleteEvent(completion_requested=True))]
    return asyncio.run(run())


def test_completer_turns_suggestions_into_completions() -> None:
    s = small_schema()
    completer = QmpCompleter(lambda: s)
    got = list(completer.get_completions(Document("block_resize dev"), CompleteEvent()))
    assert [c.text for c in got] == ["device="]
    assert got[0].start_position == -3
    assert got[0].display_meta_text == "string - the drive"


def test_completer_live_block_devices() -> None:
    s = small_schema()
    server = FakeServer()
    completer = QmpCompleter(lambda: s, LiveValues(server.execute))
    got = complete(completer, "block_resize device=sc")
    assert [(c.text, c.start_position) for c in got] == [("scratch", -2)]
    assert got[0].display_meta_text == "/x.qcow2"


def test_completer_qom_paths_segment_by_segment() -> None:
    s = small_schema()
    completer = QmpCompleter(lambda: s, LiveValues(FakeServer().execute))
    assert [c.text for c in complete(completer, "qom-get path=/")] == ["/machine", "/objects"]
    assert [c.text for c in complete(completer, "qom-get path=/machine/p")] == [
        "/machine/peripheral"]
    assert [c.text for c in complete(completer, "qom-get path=/machine/peripheral/")] == [
        "/machine/peripheral/scratch-dev"]


def test_live_values_are_cached_briefly() -> None:
    server = FakeServer()

    async def run() -> None:
        live = LiveValues(server.execute, ttl=60)
        assert [c.text for c in await live.values("block-device", "")] == ["scratch"]
        await live.values("block-device", "s")
        assert len(server.calls) == 1
        live.forget()
        await live.values("block-device", "")
        assert len(server.calls) == 2
    asyncio.run(run())


def test_slow_server_means_no_suggestions_not_a_stuck_prompt() -> None:
    async def run() -> None:
        server = FakeServer(held=asyncio.Event())
        live = LiveValues(server.execute, deadline=0.05)
        loop = asyncio.get_running_loop()
        start = loop.time()
        assert await live.values("node-name", "") == []
        assert loop.time() - start < 0.5
        # the look-up carried on; once the server answers, the cache has it
        assert server.held is not None
        server.held.set()
        entry = next(iter(live._cache.values()))[1]
        await asyncio.wait_for(entry, timeout=5)
        assert [c.text for c in await live.values("node-name", "")] == ["disk0", "#block123"]
        assert len(server.calls) == 1
    asyncio.run(run())


def test_failing_lookup_gives_nothing() -> None:
    async def broken(request: dict[str, Any]) -> Any:
        raise ConnectionError("gone")

    async def run() -> list[Candidate]:
        return await LiveValues(broken).values("chardev", "")
    assert asyncio.run(run()) == []


def test_completer_file_paths(tmp_path: Path) -> None:
    (tmp_path / "disk.qcow2").write_text("")
    s = small_schema()
    completer = QmpCompleter(lambda: s)
    line = f"blockdev-add driver=file filename={tmp_path}/di"
    got = complete(completer, line)
    assert [c.text for c in got] == ["sk.qcow2"]


def test_completion_restarts_after_a_semicolon_in_a_transaction(qemu72: Schema) -> None:
    one_line = "transaction( block-dirty-bitmap-add node=d name=b1 ; "
    assert suggest(one_line, qemu72) == Suggestion("action", prefix="")
    assert texts(one_line + "block-dirty-bitmap-c", qemu72) == ["block-dirty-bitmap-clear"]
    args = texts(one_line + "block-dirty-bitmap-clear ", qemu72)
    assert set(args) == {"node=", "name="}  # the second action's own arguments
    assert texts(one_line + "blockdev-snapshot-sync snap", qemu72)[0] == "snapshot-file="
    assert texts("transaction ( abort ; drive-b", qemu72) == ["drive-backup"]
    assert texts("transaction( abort", qemu72) == ["abort"]
    # a line of an open multi-line transaction
    inner = "block-dirty-bitmap-add node=d name=b1 ; drive-backup "
    assert "target=" in texts(inner, qemu72, transaction=True)
    assert "name=" not in texts(inner, qemu72, transaction=True)
    assert suggest("transaction( abort ) ", qemu72) == NONE


# -- Tab ----------------------------------------------------------------------

def _cands(*names: str) -> list[Candidate]:
    return [Candidate(n) for n in names]


def test_tab_takes_a_lone_candidate_with_a_space_after_a_word() -> None:
    assert tab_choice("block_r", _cands("block_resize"), ends_word=True).text == "block_resize "
    assert tab_choice("dev", _cands("device="), ends_word=True).text == "device="
    assert tab_choice("fi", _cands("file."), ends_word=True).text == "file."
    assert tab_choice("/tm", _cands("/tmp/"), ends_word=False).text == "/tmp/"
    assert tab_choice("disk", _cands("disk.qcow2"), ends_word=False).text == "disk.qcow2"


def test_tab_never_picks_one_of_several() -> None:
    choice = tab_choice("job-c", _cands("job-cancel", "job-complete"), ends_word=True)
    assert choice.text is None
    assert [c.text for c in choice.menu] == ["job-cancel", "job-complete"]
    choice = tab_choice("query-bl", _cands("query-block", "query-blockstats"), ends_word=True)
    assert choice.text == "query-block" and len(choice.menu) == 2


def test_tab_counts_only_words_that_start_with_the_prefix() -> None:
    # 'block-job-cancel' merely contains 'job-c': the menu while typing shows
    # it, Tab's choice does not count it
    choice = tab_choice("job-c", _cands("job-cancel", "block-job-cancel"), ends_word=True)
    assert choice.text == "job-cancel "
    assert tab_choice("resize", _cands("block_resize"), ends_word=True).text == "block_resize "
    assert tab_choice("x", [], ends_word=True).text is None


def test_tab_on_the_live_schema(qemu72: Schema) -> None:
    completer = QmpCompleter(lambda: qemu72)
    assert completer.tab(Document("block_r"))[1].text == "block_resize "
    assert completer.tab(Document("block_resize dev"))[1].text == "device="
    word, choice = completer.tab(Document("job-c"))
    assert word == "job-c" and choice.text is None
    assert {c.text for c in choice.menu} == {"job-cancel", "job-complete"}
    assert completer.tab(Document("query-sta"))[1].text == "query-stat"


def test_tab_uses_live_names_already_known_and_never_waits() -> None:
    s = small_schema()

    async def run() -> None:
        held = asyncio.Event()
        server = FakeServer(held)
        completer = QmpCompleter(lambda: s, LiveValues(server.execute))
        assert completer.tab(Document("block_resize device=sc"))[1].text is None
        held.set()  # the look-up Tab started answers
        entry = next(iter(completer._values._cache.values()))[1]  # type: ignore[union-attr]
        await entry
        assert completer.tab(Document("block_resize device=sc"))[1].text == "scratch "
    asyncio.run(run())


def test_live_names_of_every_kind() -> None:
    server = FakeServer()

    async def run() -> dict[str, list[str]]:
        live = LiveValues(server.execute)
        kinds = ("node-name", "block-node", "job-id", "bitmap", "bitmap:disk0", "bitmap:x",
                 "device-type", "device-property:virtio-blk-pci", "hmp-command")
        return {k: [c.text for c in await live.values(k, "")] for k in kinds}
    got = asyncio.run(run())
    assert got["node-name"] == ["disk0", "#block123"]  # chosen names first
    assert got["block-node"] == ["scratch", "disk0", "#block123"]
    assert got["job-id"] == ["mirror0"]
    assert got["bitmap"] == got["bitmap:disk0"] == ["bm0"] and got["bitmap:x"] == []
    assert got["device-type"] == ["e1000", "virtio-blk-pci"]
    assert got["device-property:virtio-blk-pci"] == ["drive=", "num-queues="]
    assert got["hmp-command"] == ["info", "stop", "s"]


def test_live_argument_names_leave_out_those_given() -> None:
    s = Schema(commands={"device_add": Command("device_add", "device_add.arguments")},
               types={"device_add.arguments": TypeInfo(
                   "device_add.arguments", "object", open=True,
                   members=(Member("driver", "str"), Member("id", "str", optional=True)))})
    completer = QmpCompleter(lambda: s, LiveValues(FakeServer().execute))
    got = [c.text for c in complete(completer, "device_add driver=virtio-blk-pci drive=d0 ")]
    assert got == ["id=", "num-queues="]


def test_hmp_mode_completes_hmp_command_names() -> None:
    completer = QmpCompleter(lambda: small_schema(), LiveValues(FakeServer().execute), hmp=True)
    assert [c.text for c in complete(completer, "in")] == ["info"]
    assert [c.text for c in complete(completer, "info ")] == ["balloon", "block", "block-jobs"]
    got = complete(completer, "info bl")
    assert [(c.text, c.start_position) for c in got] == [("block", -2), ("block-jobs", -2)]
    assert got[0].display_meta_text == "show info of one block device"
    assert complete(completer, "info block ") == []  # its arguments: not known
    assert complete(completer, "stop ") == []
    assert [c.text for c in complete(completer, ".hmp st")] == ["stop"]


def test_hmp_info_completes_what_to_show_after_hmp_in_qmp_mode() -> None:
    completer = QmpCompleter(lambda: small_schema(), LiveValues(FakeServer().execute))
    assert [c.text for c in complete(completer, ".hmp info ball")] == ["balloon"]
    assert [c.text for c in complete(completer, ".hmp i bl")] == ["block", "block-jobs"]


def test_qemu72_migration_capabilities_by_list_index(qemu72: Schema) -> None:
    line = "migrate-set-capabilities capabilities."
    assert texts(line, qemu72) == ["0."]
    assert texts(line + "0.", qemu72) == ["capability=", "state="]
    assert "xbzrle" in texts(line + "0.capability=", qemu72)
    assert texts(line + "0.capability=xbzrle capabilities.0.state=true capabilities.",
                 qemu72) == ["1."]


def test_qom_properties_of_the_path_named() -> None:
    async def run() -> list[str]:
        live = LiveValues(FakeServer().execute)
        return [c.text for c in await live.values("qom-property:/machine", "")]
    assert asyncio.run(run()) == ["type"]  # properties, not the children


class TwoVMs:
    """``@TARGET`` lines' VMs: 'src' (the current one, the schema of the
    test) and 'dst', whose schema has one command of its own."""

    def __init__(self, schema: Schema, values: LiveValues) -> None:
        self.schema = schema
        self.dst = Schema(commands={**schema.commands, "dst-only": Command("dst-only", "empty")},
                          types=schema.types, source="dst")
        self.dst_values = values

    def names(self) -> list[str]:
        return ["src", "dst"]

    def schema_for(self, target: str) -> Schema:
        return self.dst if target == "dst" else self.schema

    def values_for(self, target: str) -> LiveValues | None:
        return self.dst_values if target == "dst" else None


def test_a_line_for_a_vm_completes_by_that_vms_schema_and_live_names() -> None:
    s = small_schema()
    completer = QmpCompleter(lambda: s, targets=TwoVMs(s, LiveValues(FakeServer().execute)))
    assert [c.text for c in complete(completer, "@")] == ["@all", "@src", "@dst"]
    got = complete(completer, "  @d")
    assert [(c.text, c.start_position) for c in got] == [("@dst", -2)]
    assert [c.text for c in complete(completer, "@dst dst-")] == ["dst-only"]
    assert complete(completer, "@src dst-") == []
    assert [c.text for c in complete(completer, "@dst  block_resize device=sc")] == ["scratch"]
    assert complete(completer, "@src block_resize device=sc") == []  # src's names: none here
    assert completer.tab(Document("@ds"))[1].text == "@dst "
    assert completer.tab(Document("@dst query-sta"))[1].text == "query-status "


def test_use_and_disconnect_complete_the_vm_names() -> None:
    s = small_schema()
    completer = QmpCompleter(lambda: s, targets=TwoVMs(s, LiveValues(FakeServer().execute)))
    assert [c.text for c in complete(completer, ".use ")] == ["src", "dst"]
    assert completer.tab(Document(".disconnect d"))[1].text == "dst "
    assert complete(QmpCompleter(lambda: s), ".use ") == []  # no VMs known: nothing


def test_a_typed_target_and_where_its_line_starts() -> None:
    from qmpshell.runner.fleet import typed_target

    assert typed_target("query-status") is None
    assert typed_target("@") == ("", -1)
    assert typed_target("  @ds") == ("ds", -1)
    assert typed_target("@dst ") == ("dst", 5)
    assert typed_target(" @web-* \tquery-status") == ("web-*", 9)
