"""Named connections, @TARGET lines and gathered fan-out output (no QEMU)."""

from __future__ import annotations

from typing import Any

import pytest

from qmpshell.errors import ParseError, QmpShellError
from qmpshell.runner.fleet import ConnectionSet, default_name, split_target
from qmpshell.runner.gather import Outcome, gather, render_gathered, summary
from qmpshell.schema.model import Schema
from qmpshell.settings import split_named
from qmpshell.wire.connection import Reply


class FakeConn:
    def __init__(self, name: str, version: tuple[int, int, int] = (7, 2, 0)) -> None:
        self.name = name
        self.connected = True
        major, minor, micro = version
        self.greeting: dict[str, Any] | None = {"QMP": {"version": {"qemu": {
            "major": major, "minor": minor, "micro": micro}}}}

    def execute(self, request: dict[str, Any], timeout: float | None = None) -> Reply:
        return Reply({"return": {}}, 1)

    def take_events(self, before: int | None = None) -> list[dict[str, Any]]:
        return []

    def wait_events(self, timeout: float | None = None) -> bool:
        return False

    def lost_reason(self) -> str | None:
        return None if self.connected else "the server closed the connection"

    def interrupt(self) -> None: ...

    def close(self) -> None:
        self.connected = False


@pytest.mark.parametrize(("spec", "expected"), [
    ("src=/run/src.sock", ("src", "/run/src.sock")),
    ("/run/a=b.sock", (None, "/run/a=b.sock")),
    ("web-1=localhost:4444", ("web-1", "localhost:4444")),
    ("localhost:4444", (None, "localhost:4444")),
    ("=x", (None, "=x")),
])
def test_split_named(spec: str, expected: tuple[str | None, str]) -> None:
    assert split_named(spec) == expected


@pytest.mark.parametrize(("address", "name"), [
    ("/tmp/vm/src.sock", "src"), ("qmp.sock", "qmp"), ("/run/qmp", "qmp"),
    ("localhost:4444", "localhost:4444"), ("[::1]:4444", "[::1]:4444"),
])
def test_default_name(address: str, name: str) -> None:
    assert default_name(address) == name


def test_split_target() -> None:
    assert split_target("@dst .wait RESUME") == ("dst", ".wait RESUME")
    assert split_target("  @web-* query-status") == ("web-*", "query-status")
    assert split_target("query-status") == (None, "query-status")
    with pytest.raises(ParseError, match="@dst needs a line"):
        split_target("@dst")
    with pytest.raises(ParseError, match="@ needs a VM name"):
        split_target("@ stop")


def test_set_names_current_and_match() -> None:
    vms = ConnectionSet()
    a = vms.add("qmp", FakeConn("a"))
    b = vms.add("qmp", FakeConn("b"))
    web = vms.add("web-1", FakeConn("w"), explicit=True)
    assert (a.name, b.name, web.name) == ("qmp", "qmp-2", "web-1")
    assert vms.current is a
    assert [m.name for m in vms.match("all")] == ["qmp", "qmp-2", "web-1"]
    assert [m.name for m in vms.match("qmp*")] == ["qmp", "qmp-2"]
    assert vms.match("web-1") == [web]
    with pytest.raises(QmpShellError, match="already exists"):
        vms.add("web-1", FakeConn("x"), explicit=True)
    with pytest.raises(QmpShellError, match="no VM matches @db-\\*"):
        vms.match("db-*")
    with pytest.raises(QmpShellError, match="did you mean web-1"):
        vms.use("web-2")
    vms.use("web-1")
    assert vms.current is web
    vms.remove("web-1")
    assert vms.current is a and vms.names == ["qmp", "qmp-2"]
    assert a.version == "7.2.0" and a.kind == "qmp" and a.state == "connected"


def test_gathered_output_groups_identical_replies() -> None:
    outcomes = [Outcome("a", ('{"return": {}}',), True),
                Outcome("b", ('error: CommandNotFound: nope',), False),
                Outcome("c", ('{"return": {}}',), True)]
    assert gather(outcomes) == [(["a", "c"], '{"return": {}}'),
                                (["b"], "error: CommandNotFound: nope")]
    blocks = render_gathered("all", outcomes)
    assert blocks[0] == '---------------\na,c (2)\n---------------\n{"return": {}}'
    assert blocks[-1] == "@all: 3 VMs, 2 succeeded, 1 failed (b)"
    assert summary("x", outcomes[:1]) == "@x: 1 VM, 1 succeeded"


def test_vms_that_printed_nothing_get_no_empty_block() -> None:
    outcomes = [Outcome("a", (), True), Outcome("b", ("hi",), True), Outcome("c", (), True)]
    assert render_gathered("all", outcomes) == [
        "---------------\nb (1)\n---------------\nhi", "@all: 3 VMs, 3 succeeded"]
    assert render_gathered("a", outcomes[:1]) == ["@a: 1 VM, 1 succeeded"]


def test_command_line_takes_several_named_addresses_and_domains() -> None:
    from qmpshell.cli.options import build_parser
    from qmpshell.settings import settings_from_args

    def settings(*argv: str):  # type: ignore[no-untyped-def]
        return settings_from_args(build_parser().parse_args(list(argv)), [], env={},
                                  stdin_tty=False, stdout_tty=False)

    many = settings("src=/run/src.sock", "/run/dst.sock", "-c", "@all query-status")
    assert many.addresses == (("src", "/run/src.sock"), (None, "/run/dst.sock"))
    assert many.address == "/run/src.sock"
    libvirt = settings("--domain", "web-*", "--domain", "db", "--connect", "qemu:///system")
    assert (libvirt.domains, libvirt.libvirt_uri, libvirt.address) == (
        ("web-*", "db"), "qemu:///system", None)


def test_labelled_messages() -> None:
    from qmpshell.runner.render import Renderer

    compact = Renderer(pretty=False).labelled("src")
    assert compact.reply({"return": {}}) == '{"vm": "src", "return": {}}'
    assert compact.event({"event": "STOP"}) == '{"vm": "src", "event": "STOP"}'
    assert compact.hmp_reply({"return": "a\r\nb\r\n"}) == "src: a\nsrc: b"
    pretty = Renderer(pretty=True).labelled("src")
    assert pretty.event({"event": "STOP"}) == "STOP [src]"
    assert pretty.reply({"return": {}}) == '{\n  "return": {}\n}'
    assert Renderer().labelled(None).reply({"return": 1}) == '{"return": 1}'


def _runner(*names: str) -> Any:
    from qmpshell.runner.pipeline import Runner
    from qmpshell.settings import Settings
    from qmpshell.shorthand.parser import ShorthandParser

    schema = Schema()
    out: list[str] = []
    runner = Runner(Settings(), parser=ShorthandParser(schema, allow_unknown=True),
                    schema=schema, connection=None, out=out.append,
                    report=lambda error, where: out.append(f"{where}: {error}"))
    for name in names:
        runner.attach(name, FakeConn(f"/run/{name}.sock"))
    runner.printed = out
    return runner


def test_connect_plan_reconnects_moves_or_adds() -> None:
    one = _runner("a")
    assert one.connect_plan(None) == ("a", "/run/a.sock", one.vms.get("a"))
    assert one.connect_plan("/run/b.sock") == ("a", "/run/b.sock", one.vms.get("a"))
    assert one.connect_plan("b=/run/b.sock") == ("b", "/run/b.sock", None)
    two = _runner("a", "b")
    assert two.connect_plan("b") == ("b", "/run/b.sock", two.vms.get("b"))
    assert two.connect_plan("/run/c.sock") == ("c", "/run/c.sock", None)
    assert two.connect_plan("/run/a/a.sock")[0] == "a-2"
    # a server another VM holds: its monitor serves one client at a time
    for spec in ("c=/run/a.sock", "b=/run/./a.sock"):
        with pytest.raises(QmpShellError, match=r"^a is connected to /run/(\./)?a\.sock already"):
            two.connect_plan(spec)
    assert two.connect_plan("a=/run/a.sock") == ("a", "/run/a.sock", two.vms.get("a"))


def test_use_vms_and_fan_out_through_the_pipeline() -> None:
    runner = _runner("a", "b")
    assert runner.run_line("@all query-status")
    assert runner.printed == ['{"vm": "a", "return": {}}', '{"vm": "b", "return": {}}']
    assert runner.run_line(".use b") and runner.vms.current.name == "b"
    runner.printed.clear()
    assert runner.run_line(".vms")
    assert runner.printed[0].splitlines()[2].startswith("* b")
    assert not runner.run_line(".use c")
    assert "no VM named 'c'" in runner.printed[-1]


def test_a_line_for_several_vms_asks_once() -> None:
    runner = _runner("a", "b")
    asked: list[str] = []

    def ask(question: str) -> bool:
        asked.append(question)
        return True

    assert runner.run_line("@all .hmp system_reset", ask=ask)
    assert len(asked) == 1
    assert runner.run_line("@all system_reset", ask=ask)
    assert len(asked) == 2 and "(on a, b)" in asked[1]


def test_a_repeated_vm_line_is_parsed_once_per_schema(monkeypatch: pytest.MonkeyPatch) -> None:
    from qmpshell.shorthand import parser as shorthand

    runner = _runner("a", "b")
    parsed: list[str] = []
    feed = shorthand.ShorthandParser._feed

    def counted(self: Any, line: str) -> Any:
        parsed.append(line)
        return feed(self, line)

    monkeypatch.setattr(shorthand.ShorthandParser, "_feed", counted)
    for _ in range(3):
        assert runner.run_line("@all query-status")
    assert parsed == ["query-status"]
    runner.vms.get("b").schema = Schema()  # b's own QEMU reported its schema
    runner.printed.clear()
    assert runner.run_line("@all query-status")
    assert parsed == ["query-status", "query-status"]
    assert runner.printed == ['{"vm": "a", "return": {}}', '{"vm": "b", "return": {}}']


def test_a_transaction_opened_on_a_vm_line_is_refused_and_left_closed() -> None:
    runner = _runner("a", "b")
    assert not runner.run_line("@all transaction(")
    assert "after @VM, a transaction( ... ) goes on one line" in runner.printed[-1]
    runner.printed.clear()
    assert runner.run_line("@a query-status")
    assert runner.printed == ['{"vm": "a", "return": {}}']


def test_connect_lets_the_old_connection_go_first_when_dead_or_to_the_same_server() -> None:
    from qmpshell.runner.fleet import let_go_first

    old = FakeConn("/run/a.sock")
    assert let_go_first(old, "/run/./a.sock")  # the monitor serves one client
    assert not let_go_first(old, "/run/b.sock")  # closed once the new one works
    old.connected = False
    assert let_go_first(old, "/run/b.sock")
