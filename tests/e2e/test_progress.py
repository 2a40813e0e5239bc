"""Long work in view, end to end against real QEMUs: live progress of a
slowed ``blockdev-mirror`` and of a live migration between two local QEMUs
(at the prompt in a pty, from ``-f`` with a pty on stderr, piped),
``.watch`` and tables, and how often progress asks QEMU.

The mirror copies a 256 MiB image full of data (written once per session
with ``qemu-io``; each test's drive is a qcow2 overlay on it) at
``speed=64M``: about four seconds, long enough for several progress lines.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

pexpect = pytest.importorskip("pexpect")

from conftest import isolated_env  # noqa: E402
from helpers.monitor_client import MonitorClient  # noqa: E402
from helpers.qemu_process import QemuProcess, have_qemu  # noqa: E402

QMPSHELL = Path(sys.executable).parent / "qmpshell"
PROMPT = r"\(QEMU\)"
DEADLINE = 30
MiB = 2**20

pytestmark = pytest.mark.qemu


# -- machines -------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def data_image(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """256 MiB of data (0x55), written once; drives are overlays on it."""
    if not have_qemu():
        pytest.skip("QEMU is not installed")
    path = tmp_path_factory.mktemp("images") / "data.raw"
    subprocess.run(["qemu-img", "create", "-q", "-f", "raw", str(path), "256M"], check=True)
    subprocess.run(["qemu-io", "-f", "raw", "-c", "write -P 0x55 0 256M", str(path)],
                   check=True, capture_output=True)
    return path


@pytest.fixture
def mirror_vm(start_qemu: Callable[..., QemuProcess], data_image: Path,
              tmp_path: Path) -> QemuProcess:
    """A q35 QEMU whose drive 'scratch' holds 256 MiB of data, with an empty
    qcow2 image at tmp_path/target.qcow2 to mirror it to, and a TCP monitor."""
    overlay = tmp_path / "scratch.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-b", str(data_image),
                    "-F", "raw", str(overlay)], check=True)
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(tmp_path / "target.qcow2"),
                    "256M"], check=True)
    return start_qemu("vm", tcp=True, args=[
        "-machine", "q35,accel=tcg", "-m", "64",
        "-drive", f"if=none,id=scratch,file={overlay},format=qcow2"])


def mirror_lines(tmp_path: Path, speed: str = "64M") -> list[str]:
    return [f"blockdev-add driver=qcow2 node-name=target file.driver=file "
            f"file.filename={tmp_path / 'target.qcow2'}",
            f"blockdev-mirror job-id=j0 device=scratch target=target sync=full speed={speed}"]


CLEANUP = ["job-cancel id=j0", ".wait JOB_STATUS_CHANGE id=j0 status=null timeout=20",
           "blockdev-del node-name=target"]


def percents(text: str, label: str) -> list[int]:
    """The percentages of the progress lines of ``label`` (``mirror j0``), in order."""
    return [int(p) for p in re.findall(re.escape(label) + r" \w+\s+\[[#.]+\]\s+(\d+)%", text)]


def rises(values: list[int]) -> int:
    return sum(1 for a, b in zip(values, values[1:], strict=False) if b > a)


def spawn_prompt(home: Path, sock: Path, *extra: str) -> Any:
    child = pexpect.spawn(str(QMPSHELL), ["-y", *extra, str(sock)], env=isolated_env(home),
                          dimensions=(30, 120), encoding="utf-8", timeout=DEADLINE)
    child.expect(PROMPT)
    return child


def run_line(child: Any, line: str, expect: str = r'"return": \{\}') -> None:
    child.send(line + "\r")
    child.expect(expect)
    child.expect(PROMPT)


def settle(child: Any) -> None:
    """Wait until every line sent so far has run: a marker echoed as output
    (not as the typed line) shows that the shell is at its prompt again."""
    marker = f"settled-{time.monotonic_ns()}"
    child.send(f".echo {marker}\r")
    child.expect(r"\n(?:\x1b\[[0-9;?]*[A-Za-z])*" + marker + r"\r")
    child.expect(PROMPT)


def cancel_at_prompt(child: Any) -> None:
    """Cancel the mirror and wait (as a person would, with query-jobs) until it is gone."""
    run_line(child, "job-cancel id=j0")
    for _ in range(DEADLINE * 4):
        child.send("query-jobs\r")
        if child.expect([r"\n(?:\x1b\[[0-9;?]*[A-Za-z])*no jobs\r", r"j0\s+mirror"]) == 0:
            break
        child.expect(PROMPT)
    else:
        raise AssertionError("the cancelled mirror did not go away")
    child.expect(PROMPT)
    run_line(child, "blockdev-del node-name=target")


def quit_prompt(child: Any) -> int:
    settle(child)
    child.sendcontrol("d")
    child.expect(pexpect.EOF)
    child.close()
    return int(child.exitstatus)


def session_file(tmp_path: Path, name: str, lines: list[str]) -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n")
    return path


def run_with_pty_stderr(home: Path, args: list[str], stdout: Path) -> str:
    """Run qmpshell with stdout to a file and stderr on a pty; what the
    terminal showed."""
    command = " ".join(f"'{a}'" for a in [str(QMPSHELL), *args]) + f" > '{stdout}'"
    child = pexpect.spawn("sh", ["-c", f"exec {command}"], env=isolated_env(home),
                          dimensions=(30, 120), encoding="utf-8", timeout=DEADLINE)
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before
    return str(child.before)


def masked(stdout: str) -> list[str]:
    """stdout's lines with event timestamps (which differ from run to run) masked."""
    return [re.sub(r'"timestamp": \{[^}]*\}', '"timestamp": T', line)
            for line in stdout.splitlines()]


# -- the mirror ---------------------------------------------------------------------------

def test_prompt_wait_shows_rising_progress_then_the_summary(mirror_vm: QemuProcess,
                                                            home: Path,
                                                            tmp_path: Path) -> None:
    child = spawn_prompt(home, mirror_vm.socket_path)
    for line in mirror_lines(tmp_path):
        run_line(child, line)
    child.send(".wait BLOCK_JOB_READY\r")
    child.expect(r"mirror j0: ready, 256 MiB in \d+(\.\d)? s, [\d.]+ MiB/s")
    shown = child.before
    assert "BLOCK_JOB_READY\r\n" in shown, repr(shown[-3000:])
    before_event = shown[:shown.rindex("BLOCK_JOB_READY\r\n")]  # the event, not the line typed
    seen = percents(before_event, "mirror j0")
    assert rises(seen) >= 2, seen
    assert "JOB_STATUS_CHANGE" not in shown  # folded into the line
    child.expect(PROMPT)
    child.send(".jobs\r")
    child.expect(r"j0\s+mirror\s+ready\s+100%\s+256 MiB\s+256 MiB")
    child.expect(PROMPT)
    child.send("query-jobs\r")  # a table at a terminal
    child.expect(r"ID\s+TYPE\s+STATUS\s+DONE\s+COPIED\s+TOTAL\r\n"
                 r"j0\s+mirror\s+ready\s+100%\s+256 MiB\s+256 MiB")
    child.expect(PROMPT)
    child.send(".format json\r")
    child.expect(PROMPT)
    child.send("query-jobs\r")
    child.expect(r'"current-progress": 268435456')
    child.expect(PROMPT)
    child.send(".format table\r")
    cancel_at_prompt(child)
    assert quit_prompt(child) == 0


def test_ctrl_c_stops_the_wait_and_leaves_the_job_running(mirror_vm: QemuProcess,
                                                          home: Path, tmp_path: Path) -> None:
    child = spawn_prompt(home, mirror_vm.socket_path)
    for line in mirror_lines(tmp_path, speed="16M"):
        run_line(child, line)
    child.send(".wait BLOCK_JOB_READY\r")
    child.expect(r"mirror j0 running\s+\[[#.]+\]\s+\d+%")
    child.sendcontrol("c")
    child.expect(r"mirror j0: running, \d+% \(.* of 256 MiB\) after .*, still running")
    child.expect("interrupted")
    child.expect(PROMPT)
    child.send("query-jobs\r")
    child.expect(r"j0\s+mirror\s+running")
    child.expect(PROMPT)
    cancel_at_prompt(child)
    assert quit_prompt(child) == 0


def test_scripts_show_progress_on_a_terminal_stderr_and_keep_stdout_clean(
        mirror_vm: QemuProcess, home: Path, tmp_path: Path) -> None:
    session = session_file(tmp_path, "mirror.qmp", [
        *mirror_lines(tmp_path), ".wait BLOCK_JOB_READY timeout=30", *CLEANUP])
    sock = str(mirror_vm.socket_path)

    with_progress = tmp_path / "with-progress.json"
    terminal = run_with_pty_stderr(home, [sock, "-f", str(session)], with_progress)
    assert rises(percents(terminal, "mirror j0")) >= 2, terminal
    assert re.search(r"mirror j0: ready, 256 MiB in [\d.]+ s, [\d.]+ MiB/s", terminal)

    piped = subprocess.run([str(QMPSHELL), sock, "-f", str(session)], env=isolated_env(home),
                           stdin=subprocess.DEVNULL, capture_output=True, text=True,
                           timeout=60)
    assert piped.returncode == 0 and piped.stderr == ""  # no progress into a pipe
    assert masked(piped.stdout) == masked(with_progress.read_text())
    for line in piped.stdout.splitlines():
        json.loads(line)
    assert "\x1b" not in with_progress.read_text()

    off = tmp_path / "no-progress.json"
    terminal = run_with_pty_stderr(home, [sock, "-f", str(session), "--no-progress"], off)
    assert "mirror j0" not in terminal
    assert masked(off.read_text()) == masked(piped.stdout)


def test_progress_asks_qemu_at_most_five_times_a_second(mirror_vm: QemuProcess, home: Path,
                                                        tmp_path: Path) -> None:
    log = tmp_path / "traffic.jsonl"
    wait = ".wait BLOCK_JOB_COMPLETED timeout=10"  # the slow mirror will not complete
    result = subprocess.run(
        [str(QMPSHELL), str(mirror_vm.socket_path), "--progress", "--logfile", str(log),
         *[arg for line in [*mirror_lines(tmp_path, speed="8M"), wait] for arg in ("-c", line)]],
        env=isolated_env(home), stdin=subprocess.DEVNULL, capture_output=True, text=True,
        timeout=60)
    assert result.returncode == 1 and "no BLOCK_JOB_COMPLETED event within 10 s" in result.stderr
    assert re.search(r"mirror j0 running\s+\[[#.]+\]", result.stderr)
    assert "\x1b" not in result.stderr  # --progress into a pipe: plain lines
    from datetime import datetime

    sent = [entry for entry in map(json.loads, log.read_text().splitlines())
            if entry["direction"] == "sent"]
    mirror = next(i for i, entry in enumerate(sent)
                  if entry["message"].get("execute") == "blockdev-mirror")
    waited = [datetime.fromisoformat(entry["time"]).timestamp() for entry in sent[mirror + 1:]]
    assert len(waited) >= 10  # it did ask
    for i, start in enumerate(waited):
        assert sum(1 for t in waited[i:] if t < start + 1.0) <= 5
    assert len(waited) <= 5 * 10 + 2


# -- migration ----------------------------------------------------------------------------

@pytest.fixture(scope="session")
def guest_ram(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """128 MiB of random bytes: guest RAM that does not compress to nothing."""
    path = tmp_path_factory.mktemp("ram") / "ram.bin"
    with open("/dev/urandom", "rb") as source, open(path, "wb") as ram:
        for _ in range(128):
            ram.write(source.read(MiB))
    return path


@pytest.fixture
def migration_pair(start_qemu: Callable[..., QemuProcess], guest_ram: Path,
                   tmp_path: Path) -> Iterator[tuple[QemuProcess, QemuProcess]]:
    """Two q35 QEMUs with 128 MiB of guest RAM, the source's full of random
    data (a private mapping of ``guest_ram``), the destination waiting for
    an incoming migration (``-incoming defer``)."""
    empty = tmp_path / "empty-ram.bin"
    with open(empty, "wb") as f:
        f.truncate(128 * MiB)

    def machine(ram: Path) -> list[str]:
        return ["-machine", "q35,accel=tcg,memory-backend=mem", "-m", "128",
                "-object", f"memory-backend-file,id=mem,size=128M,mem-path={ram},share=off"]

    source = start_qemu("source", args=machine(guest_ram))
    destination = start_qemu("destination", args=[*machine(empty), "-incoming", "defer"])
    yield source, destination


def test_migration_progress_ends_with_its_summary(migration_pair: tuple[QemuProcess, ...],
                                                  home: Path, tmp_path: Path) -> None:
    source, destination = migration_pair
    channel = tmp_path / "migration.sock"
    ready = subprocess.run([str(QMPSHELL), str(destination.socket_path), "-c",
                            f"migrate-incoming uri=unix:{channel}"], env=isolated_env(home),
                           stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30)
    assert ready.returncode == 0, ready.stderr
    session = session_file(tmp_path, "migrate.qmp", [
        'migrate-set-capabilities capabilities=[{"capability": "events", "state": true}]',
        "migrate-set-parameters max-bandwidth=40M",
        f"migrate uri=unix:{channel}",
        ".wait MIGRATION status=completed timeout=30"])
    out = tmp_path / "out.json"
    terminal = run_with_pty_stderr(home, [str(source.socket_path), "-f", str(session)], out)
    assert rises(percents(terminal, "migration")) >= 2, terminal
    assert re.search(r"migration active\s+\[[#.]+\]\s+\d+%\s+[\d.]+ MiB / 129 MiB\s+"
                     r"[\d.]+ MiB/s\s+[\d.]+ s left", terminal), terminal
    assert re.search(r"migration: completed, 129 MiB in [\d.]+ s, [\d.]+ MiB/s, "
                     r"downtime [\d.]+ m?s", terminal), terminal  # a busy host: 1.2 s
    statuses = [m["data"]["status"] for m in map(json.loads, out.read_text().splitlines())
                if m.get("event") == "MIGRATION"]
    assert statuses[-1] == "completed"


# -- .watch and tables -----------------------------------------------------------------------

def test_watch_prints_each_snapshot_in_scripts(qemu: QemuProcess, home: Path) -> None:
    started = time.monotonic()
    result = subprocess.run([str(QMPSHELL), str(qemu.socket_path), "-c",
                             ".watch query-status every=0.2 count=5"], env=isolated_env(home),
                            stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30)
    took = time.monotonic() - started
    assert result.returncode == 0, result.stderr
    snapshots = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(snapshots) == 5
    assert all("running" in s["return"] for s in snapshots)
    assert took >= 0.8


def test_watch_at_the_prompt_highlights_what_changed(qemu: QemuProcess, home: Path) -> None:
    child = spawn_prompt(home, qemu.socket_path)
    child.send(".watch query-status every=0.3\r")
    child.expect(r"every 0\.3 s: query-status  #2 ")
    child.expect(r'"running": true')
    other = MonitorClient(qemu.tcp_port, DEADLINE)
    try:
        assert other.execute("stop") == {"return": {}}
    finally:
        other.close()
    child.expect(re.escape('"running": \x1b[7mfalse\x1b[27m'))  # reverse video: changed
    child.sendcontrol("c")
    child.expect("interrupted")
    child.expect(PROMPT)
    assert quit_prompt(child) == 0


def test_tables_at_a_terminal_and_json_with_format_json(mirror_vm: QemuProcess,
                                                        home: Path) -> None:
    child = spawn_prompt(home, mirror_vm.socket_path)
    child.send("query-block\r")
    child.expect(r"DEVICE\s+NODE\s+DRIVER\s+SIZE\s+MODE\s+FILE\r\n"
                 r"scratch\s+#block\d+\s+qcow2\s+256 MiB\s+rw\s+\S+scratch\.qcow2\r\n")
    child.expect(PROMPT)
    assert quit_prompt(child) == 0

    child = spawn_prompt(home, mirror_vm.socket_path, "--format", "json")
    child.send("query-block\r")
    child.expect(r'"device": "scratch"')
    child.expect(PROMPT)
    assert quit_prompt(child) == 0

    def script(*extra: str) -> str:
        result = subprocess.run([str(QMPSHELL), str(mirror_vm.socket_path), *extra,
                                 "-c", "query-block", "-c", "query-jobs"],
                                env=isolated_env(home), stdin=subprocess.DEVNULL,
                                capture_output=True, text=True, timeout=30)
        assert result.returncode == 0, result.stderr
        return result.stdout

    assert script("--format", "json") == script()  # off a terminal JSON is the default
    assert script("--format", "table").splitlines()[-1] == "no jobs"

