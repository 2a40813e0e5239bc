"""The installed command against a real QEMU: scripted runs, output contract,
exit codes, events, dot-commands, HMP, the message log and --dry-run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers.cli import ISOLATED, empty_cache, messages, qmpshell, sock
from helpers.fake_server import FakeQMP
from helpers.qemu_process import QemuProcess


# -- the acceptance list -------------------------------------------------------
def test_block_resize_then_query_block(qemu_scratch: QemuProcess) -> None:
    r = qmpshell(sock(qemu_scratch), "-c", "block_resize device=scratch size=1G",
                 "-c", "query-block")
    assert r.returncode == 0, r.stderr
    resize, block = messages(r.stdout)
    assert resize == {"return": {}}
    scratch = next(b for b in block["return"] if b["device"] == "scratch")
    assert scratch["inserted"]["image"]["virtual-size"] == 1073741824


def test_stop_cont_print_events_in_arrival_order(qemu: QemuProcess) -> None:
    r = qmpshell(sock(qemu), "-c", "stop", "-c", "cont", "-c", ".wait RESUME timeout=5")
    assert r.returncode == 0, r.stderr
    out = messages(r.stdout)
    assert [m.get("event", "reply") for m in out] == ["STOP", "reply", "RESUME", "reply"]
    assert all("id" not in m for m in out)
    assert r.stderr == ""


def test_wait_for_an_event_that_never_comes(qemu: QemuProcess) -> None:
    r = qmpshell(sock(qemu), "-c", "query-status", "-c", ".wait SUSPEND_DISK timeout=0.5")
    assert r.returncode == 1
    assert r.stderr == "<command>:2: error: no SUSPEND_DISK event within 0.5 s\n"
    assert messages(r.stdout)[0]["return"]["status"] == "running"


def test_wait_matches_an_event_once(qemu: QemuProcess) -> None:
    r = qmpshell(sock(qemu), "-c", "stop", "-c", ".wait STOP timeout=2",
                 "-c", ".wait STOP timeout=0.3")
    assert r.returncode == 1
    assert r.stderr == "<command>:3: error: no STOP event within 0.3 s\n"


def test_qmp_error_prints_the_error_and_exits_1(qemu: QemuProcess) -> None:
    r = qmpshell(sock(qemu), "-c", "device_del id=nope", "-c", ".echo after")
    assert r.returncode == 1
    assert r.stdout.splitlines() == [
        '{"error": {"class": "DeviceNotFound", "desc": "Device \'nope\' not found"}}', "after"]
    assert r.stderr == "<command>:1: error: DeviceNotFound: Device 'nope' not found\n"


def test_exit_on_error_stops_at_the_failing_line(qemu: QemuProcess, tmp_path: Path) -> None:
    session = tmp_path / "s.qmp"
    session.write_text("query-status\ndevice_del id=nope\n.echo not reached\n")
    r = qmpshell(sock(qemu), "-f", str(session), "-e")
    assert r.returncode == 1
    assert "not reached" not in r.stdout
    assert len(r.stdout.splitlines()) == 2
    assert r.stderr.startswith(f"{session}:2: error: DeviceNotFound")


def test_exit_on_error_sends_nothing_after_the_failing_line(qemu: QemuProcess,
                                                            tmp_path: Path) -> None:
    """A replay prepares the next line while QEMU answers, but sends it only
    after a successful reply: with -e, the 'stop' after a failure never runs."""
    session = tmp_path / "s.qmp"
    session.write_text("query-status\ndevice_del id=nope\nstop\n")
    r = qmpshell(sock(qemu), "-f", str(session), "-e")
    assert r.returncode == 1
    assert len(r.stdout.splitlines()) == 2
    after = qmpshell(sock(qemu), "-c", "query-status")
    assert messages(after.stdout)[0]["return"]["status"] == "running"


def test_replay_keeps_output_and_diagnostics_in_line_order(qemu: QemuProcess,
                                                           tmp_path: Path) -> None:
    """Replies, events, echoes and errors come out in the order of the lines,
    whichever line was prepared early."""
    session = tmp_path / "s.qmp"
    session.write_text("stop\nnot-a-command x\nquery-status\ntransaction(\n  abort\n)\n"
                       "cont\n.echo done\nquery-status\n")
    env = {**os.environ, "XDG_CONFIG_HOME": str(ISOLATED / "config"),
           "XDG_CACHE_HOME": str(ISOLATED / "cache")}
    r = subprocess.run([sys.executable, "-m", "qmpshell", sock(qemu), "-f", str(session),
                        "--compact"], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, timeout=60, env=env)
    assert r.returncode == 1
    lines = r.stdout.splitlines()
    shapes = [line if not line.startswith("{") else
              json.loads(line).get("event") or next(iter(json.loads(line))) for line in lines]
    assert shapes[:3] == ["STOP", "return", lines[2]]
    assert lines[2].startswith(f"{session}:2: error: ")
    assert shapes[3:5] == ["return", "error"]
    assert lines[5].startswith(f"{session}:6: error: GenericError")
    assert shapes[6:] == ["RESUME", "return", "done", "return"]
    assert json.loads(lines[3])["return"]["status"] == "paused"
    assert json.loads(lines[-1])["return"]["status"] == "running"


def test_garbage_line_is_reported_and_the_rest_runs(qemu: QemuProcess, tmp_path: Path) -> None:
    session = tmp_path / "s.qmp"
    session.write_text("# a comment\nquery-status\nthis is not a command ((\n\n.echo still here\n")
    r = qmpshell(sock(qemu), "-f", str(session))
    assert r.returncode == 1
    lines = r.stdout.splitlines()
    assert json.loads(lines[0])["return"]["running"] is True
    assert lines[1] == "still here"
    assert r.stderr.startswith(f"{session}:3: error: ")
    assert len(r.stderr.splitlines()) == 1
    assert "Traceback" not in r.stderr


def test_stdin_is_a_session_file(qemu: QemuProcess) -> None:
    r = qmpshell(sock(qemu), stdin="query-status\n.echo done\n")
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[1] == "done"
    r = qmpshell(sock(qemu), "-f", "-", stdin="nonsense-command-xyz\n")
    assert r.returncode == 1
    assert r.stderr.startswith("<stdin>:1: error: ")


def test_live_schema_types_commands_the_bundled_table_lacks(qemu: QemuProcess) -> None:
    for _ in range(2):  # cold, then from the schema cache
        r = qmpshell(sock(qemu), "-c", "blockdev-add driver=null-co node-name=n0 size=1M",
                     "-c", "block-dirty-bitmap-add node=n0 name=b0",
                     "-c", "query-named-block-nodes", "-c", "blockdev-del node-name=n0")
        assert r.returncode == 0, r.stderr
        nodes = messages(r.stdout)[2]["return"]
        assert [n["image"]["virtual-size"] for n in nodes] == [1048576]
    assert list((ISOLATED / "cache" / "qmpshell" / "schemas").iterdir())


def test_tcp_address(qemu: QemuProcess) -> None:
    r = qmpshell(f"127.0.0.1:{qemu.tcp_port}", "-c", "query-status")
    assert r.returncode == 0, r.stderr
    assert messages(r.stdout)[0]["return"]["status"] == "running"


def test_verbose_echoes_requests_and_pretty_indents(qemu: QemuProcess) -> None:
    r = qmpshell(sock(qemu), "-v", "-c", "query-status")
    assert messages(r.stdout) == [{"execute": "query-status"},
                                  messages(r.stdout)[1]]
    r = qmpshell(sock(qemu), "--pretty", "-c", "query-status", "-c", "device_del id=nope")
    assert r.stdout.startswith("{\n")
    assert "error: DeviceNotFound: Device 'nope' not found" in r.stdout


def test_hmp_mode_and_hmp_dot_command(qemu: QemuProcess) -> None:
    r = qmpshell(sock(qemu), "-H", "-c", "info status")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "VM status: running\n"
    r = qmpshell(sock(qemu), "-c", ".hmp info status")
    assert r.stdout == "VM status: running\n"


def test_help_lines(qemu: QemuProcess) -> None:
    r = qmpshell(sock(qemu), "-c", ".help block_resize", "-c", "block_resize ?")
    assert r.returncode == 0, r.stderr
    assert r.stdout.count("size") >= 2


def test_list_commands_live_and_bundled(qemu: QemuProcess) -> None:
    live = qmpshell(sock(qemu), "--list-commands")
    assert live.returncode == 0, live.stderr
    names = live.stdout.split()
    assert "query-status" in names and names == sorted(names)
    bundled = qmpshell("--list-commands")
    assert bundled.returncode == 0
    assert "block_resize" in bundled.stdout.split()


def test_logfile_masks_the_password(qemu: QemuProcess, tmp_path: Path) -> None:
    log = tmp_path / "qmp.log"
    r = qmpshell(sock(qemu), "--logfile", str(log), "-c",
                 "set_password protocol=vnc password=hunter2")
    text = log.read_text()
    assert "hunter2" not in text
    entries = [json.loads(line) for line in text.splitlines()]
    sent = [e["message"] for e in entries if e["direction"] == "sent"]
    assert sent[-1]["arguments"]["password"] == "********"
    assert entries[0]["message"]["QMP"]["version"]
    # QEMU without a VNC display refuses; what matters is what was logged.
    assert r.returncode in (0, 1)


def test_logfile_server_gets_the_real_password(tmp_path: Path) -> None:
    log = tmp_path / "qmp.log"
    with FakeQMP(tmp_path) as server:
        r = qmpshell(server.address, "-l", str(log), "-c",
                     "set_password protocol=vnc password=12345")
    assert r.returncode == 0, r.stderr
    assert server.received[-1]["arguments"]["password"] == "12345"
    assert "12345" not in log.read_text()


# -- --dry-run -------------------------------------------------------------------
def test_dry_run_prints_requests(tmp_path: Path) -> None:
    r = qmpshell("-n", "-c", "block_resize device=scratch size=1G", "-c", "query-status",
                 env=empty_cache(tmp_path))
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == [
        '{"execute": "block_resize", "arguments": {"device": "scratch", "size": 1073741824}}',
        '{"execute": "query-status"}']


def test_dry_run_errors_name_file_and_line(tmp_path: Path) -> None:
    session = tmp_path / "s.qmp"
    session.write_text("query-status\nblock_resize device=d size=huge\nquery-block\n")
    r = qmpshell("--dry-run", "-f", str(session), env=empty_cache(tmp_path))
    assert r.returncode == 1
    assert len(r.stdout.splitlines()) == 2
    assert r.stderr.startswith(f"{session}:2: error: column ")
    r = qmpshell("--dry-run", "-e", "-f", str(session))
    assert len(r.stdout.splitlines()) == 1


def test_dry_run_transaction_over_lines(tmp_path: Path) -> None:
    r = qmpshell("-n", stdin="transaction(\n"
                 "  blockdev-snapshot-sync device=d snapshot-file=/tmp/s.qcow2\n"
                 ")\n", env=empty_cache(tmp_path))
    assert r.returncode == 0, r.stderr
    (request,) = messages(r.stdout)
    assert request["execute"] == "transaction"
    assert request["arguments"]["actions"] == [{
        "type": "blockdev-snapshot-sync",
        "data": {"device": "d", "snapshot-file": "/tmp/s.qcow2"}}]
    r = qmpshell("-n", stdin="transaction(\n  blockdev-snapshot-sync device=d snapshot-file=x\n",
                 env=empty_cache(tmp_path))
    assert r.returncode == 1
    assert r.stderr.startswith("<stdin>:2: error: ")


# -- usage -----------------------------------------------------------------------
@pytest.mark.parametrize("args", [
    ["-c", "query-status"],
    ["/tmp/x.sock", "--spawn"],
    ["/tmp/x.sock", "-c", "x", "--", "-m", "64"],
    ["-n", "-f", "/nonexistent/session.qmp"],
    ["--timeout", "-1", "/tmp/x.sock", "-c", "x"],
])
def test_usage_errors_exit_2(args: list[str]) -> None:
    r = qmpshell(*args)
    assert r.returncode == 2
    assert r.stderr.startswith("qmpshell: error: ")
    assert "Traceback" not in r.stderr


def test_scripted_runs_do_not_import_the_prompt(qemu: QemuProcess) -> None:
    r = subprocess.run([sys.executable, "-X", "importtime", "-m", "qmpshell", sock(qemu),
                        "-c", "query-status", "--color", "never"],
                       stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0
    imported = {line.split("|")[-1].strip() for line in r.stderr.splitlines()}
    assert "qmpshell.shorthand.parser" in imported  # the measurement works
    assert not {m for m in imported if m.startswith(("prompt_toolkit", "pygments"))}
