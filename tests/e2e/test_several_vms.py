"""Several VMs from one shell, against real QEMUs: names, @NAME / @all /
@GLOB lines, "vm" in compact output, .connect/.use/.disconnect in files,
and a live migration driven from one session file."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from helpers.cli import messages, qmpshell, sock
from helpers.qemu_process import QemuProcess

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

Start = Callable[..., QemuProcess]


def test_one_vm_prints_exactly_as_before(start_qemu: Start) -> None:
    a = start_qemu("a")
    r = qmpshell(sock(a), "-c", "query-status", "-c", "@qmp query-status")
    assert r.returncode == 0, r.stderr
    assert messages(r.stdout) == [{"return": {"status": "running", "singlestep": False,
                                              "running": True}}] * 2


def test_names_vm_member_and_plain_lines_go_to_the_first(start_qemu: Start) -> None:
    a, b = start_qemu("a"), start_qemu("b")
    r = qmpshell(f"src={sock(a)}", sock(b), "-c", "query-name", "-c", "@qmp query-name",
                 "-c", ".vms")
    assert r.returncode == 0, r.stderr
    out = r.stdout.splitlines()
    assert messages("\n".join(out[:2])) == [{"vm": "src", "return": {}},
                                            {"vm": "qmp", "return": {}}]
    table = out[2:]
    assert table[0].split() == ["NAME", "KIND", "QEMU", "STATE"]
    assert table[1].split()[:3] == ["*", "src", "qmp"] and table[1].endswith("connected")
    assert table[2].split()[:2] == ["qmp", "qmp"]


def test_all_runs_everywhere_and_fails_only_where_the_line_fails(start_qemu: Start) -> None:
    a, b, c = start_qemu("a"), start_qemu("b"), start_qemu("c")
    add = "blockdev-add driver=null-co node-name=n0 size=1M"
    r = qmpshell(f"a={sock(a)}", f"b={sock(b)}", f"c={sock(c)}", "-c", f"@b {add}",
                 "-c", f"@all {add}", "-c", "@all query-status")
    assert r.returncode == 1
    got = messages(r.stdout)
    assert got[0] == {"vm": "b", "return": {}}
    fan = got[1:4]
    assert [m["vm"] for m in fan] == ["a", "b", "c"]
    assert fan[0] == {"vm": "a", "return": {}} and fan[2] == {"vm": "c", "return": {}}
    assert fan[1]["error"]["class"] == "GenericError"
    assert [m["vm"] for m in got[4:]] == ["a", "b", "c"]
    assert "<command>:2: b: error: GenericError" in r.stderr
    assert r.stderr.count("error") == 1


def test_glob_and_unknown_target(start_qemu: Start) -> None:
    w1, w2, db = start_qemu("w1"), start_qemu("w2"), start_qemu("db")
    args = [f"web-1={sock(w1)}", f"web-2={sock(w2)}", f"db={sock(db)}"]
    r = qmpshell(*args, "-c", "@web-* query-name")
    assert r.returncode == 0, r.stderr
    assert [m["vm"] for m in messages(r.stdout)] == ["web-1", "web-2"]
    r = qmpshell(*args, "-c", "@web-3 query-name")
    assert r.returncode == 1
    assert "no VM named 'web-3' (did you mean web-2? VMs: web-1, web-2, db)" in r.stderr
    # an error's column counts from the start of the line as typed, target included
    r = qmpshell(*args, "-c", "@web-1 query-staus", "-c", "  @db  block_resize size=12X")
    assert r.returncode == 1
    assert r.stderr.splitlines() == [
        "<command>:1: web-1: error: column 8: unknown command 'query-staus' "
        "(did you mean 'query-status'?)",
        "<command>:2: db: error: column 26: block_resize: size: expected a size such as 1G "
        "or 4096, got '12X'"]


def test_connect_use_and_disconnect_in_a_session_file(start_qemu: Start,
                                                      tmp_path: Path) -> None:
    a, b = start_qemu("a"), start_qemu("b")
    session = tmp_path / "s.qmp"
    session.write_text(f".connect src={sock(a)}\n.connect dst={sock(b)}\n"
                       "stop\n.use dst\nquery-status\n.disconnect src\nquery-status\n"
                       "@src query-status\n")
    r = qmpshell("-f", str(session))
    assert r.returncode == 1
    got = messages(r.stdout)
    assert got[0]["vm"] == "src" and got[0]["event"] == "STOP"
    assert got[1] == {"vm": "src", "return": {}}
    assert got[2]["vm"] == "dst" and got[2]["return"]["status"] == "running"
    # one VM left: output as with one connection
    assert got[3] == {"return": {"status": "running", "singlestep": False, "running": True}}
    assert f"{session}:8: error: no VM named 'src'" in r.stderr


def test_connect_to_a_server_already_held_is_refused_or_reconnects(start_qemu: Start) -> None:
    """QEMU's monitor serves one client: .connect NAME=ADDRESS to a server
    another VM holds is refused at once, and .connect to the current VM's own
    server lets its connection go first (neither waits 10 s for a greeting)."""
    a, b = start_qemu("a"), start_qemu("b")
    r = qmpshell(f"a={sock(a)}", f"b={sock(b)}", "-c", f".connect c={sock(a)}",
                 "-c", "@all query-status")
    assert r.returncode == 1
    assert r.stderr == (f"<command>:1: error: a is connected to {sock(a)} already (QEMU's "
                        "monitor serves one client at a time: @a runs a line there)\n")
    assert [m["vm"] for m in messages(r.stdout)] == ["a", "b"]
    r = qmpshell(sock(a), "-c", "query-name", "-c", f".connect {sock(a)}", "-c", ".connect",
                 "-c", "query-name")
    assert r.returncode == 0, r.stderr
    assert messages(r.stdout) == [{"return": {}}, {"return": {}}]


def test_a_lost_vm_in_a_fan_out_exits_3(start_qemu: Start) -> None:
    a, b = start_qemu("a"), start_qemu("b")
    r = qmpshell(f"a={sock(a)}", f"b={sock(b)}", "-c", "@b quit", "-c", ".sleep 0.5",
                 "-c", "@all query-status", "-y")
    assert r.returncode == 3, r.stderr
    assert "b: connection lost" in r.stderr
    assert {"vm": "a", "return": {"status": "running", "singlestep": False,
                                  "running": True}} in messages(r.stdout)


def test_live_migration_from_one_session_file(start_qemu: Start, tmp_path: Path) -> None:
    """examples/migrate.qmp as the README shows it, with this test's paths."""
    machine = ["-machine", "pc,accel=tcg", "-m", "32"]
    src = start_qemu("src", args=machine)
    dst = start_qemu("dst", args=[*machine, "-incoming", "defer"])
    text = (EXAMPLES / "migrate.qmp").read_text()
    text = text.replace("/tmp/qmpshell-demo/src.sock", sock(src))
    text = text.replace("/tmp/qmpshell-demo/dst.sock", sock(dst))
    text = text.replace("/tmp/qmpshell-demo/", f"{tmp_path}/")
    session = tmp_path / "migrate.qmp"
    session.write_text(text)
    r = qmpshell("-f", str(session), timeout=180)
    assert r.returncode == 0, r.stderr
    got = messages(r.stdout)
    assert {"event": "RESUME"}.items() <= next(m for m in got if m.get("event") == "RESUME"
                                               ).items()
    assert got[-2]["vm"] == "src" and got[-2]["return"]["status"] == "completed"
    assert got[-1] == {"vm": "dst", "return": {"status": "running", "singlestep": False,
                                               "running": True}}


def test_a_recording_of_several_vms_replays(start_qemu: Start, tmp_path: Path) -> None:
    a, b = start_qemu("a"), start_qemu("b")
    record = tmp_path / "rec.qmp"
    lines = ["@all query-status", ".use b", "query-name", "@a query-name"]
    args = [f"a={sock(a)}", f"b={sock(b)}"]
    first = qmpshell(*args, "--record", str(record), *[x for line in lines for x in ("-c", line)])
    assert first.returncode == 0, first.stderr
    recorded = [line for line in record.read_text().splitlines() if not line.startswith("#")]
    assert recorded == lines
    # its header says how to replay it: with the same names
    assert record.read_text().splitlines()[1].startswith(
        "# replay: qmpshell a=ADDRESS b=ADDRESS -f FILE;")
    again = qmpshell(*args, "-f", str(record))
    assert again.returncode == 0, again.stderr
    assert again.stdout == first.stdout
