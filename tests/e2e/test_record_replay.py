"""Recording end to end: a session typed at the prompt (a real pty) with
``--record`` replays with ``-f`` against a fresh QEMU and gets the same
replies; ``--record`` in ``-c`` runs; record files that cannot be opened."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

pexpect = pytest.importorskip("pexpect")

from conftest import isolated_env  # noqa: E402
from helpers.qemu_process import QemuProcess  # noqa: E402

QMPSHELL = Path(sys.executable).parent / "qmpshell"
PROMPT = r"\(QEMU\)"
DEADLINE = 20
REPLY = re.compile(r'(\{"(?:return|error)": [^\r\n]*\})\r?\n')

pytestmark = pytest.mark.qemu


def run_qmpshell(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(QMPSHELL), *args], env=isolated_env(home), stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=60)


@pytest.fixture
def fresh_scratch(start_qemu: Callable[..., QemuProcess]) -> QemuProcess:
    """A second q35 QEMU with its own 'scratch' drive, as the fixture's."""
    return start_qemu("fresh", scratch=True)



class Prompt:
    """The installed shell in a pty, typed at line by line."""

    def __init__(self, home: Path, *args: str) -> None:
        self.child = pexpect.spawn(str(QMPSHELL), list(args), env=isolated_env(home),
                                   dimensions=(40, 200), encoding="utf-8", timeout=DEADLINE)
        self.child.expect(PROMPT)

    def reply(self, line: str) -> dict[str, Any]:
        """Type ``line``; the reply it printed (compact: one JSON line)."""
        self.child.send(line + "\r")
        self.child.expect(REPLY)
        reply = json.loads(self.child.match.group(1))
        self.child.expect(PROMPT)
        return dict(reply)

    def says(self, line: str, text: str, prompt: str = PROMPT) -> None:
        """Type ``line`` and wait for ``text`` (a regex), then the prompt."""
        self.child.send(line + "\r")
        self.child.expect(text)
        self.child.expect(prompt)

    def quit(self) -> int:
        self.child.sendcontrol("d")
        self.child.expect(pexpect.EOF)
        self.child.close()
        return int(self.child.exitstatus)


def replies(stdout: str) -> list[dict[str, Any]]:
    """The replies in a compact run's stdout (events and text left out)."""
    found = []
    for line in stdout.splitlines():
        if line.startswith("{"):
            message = json.loads(line)
            if "return" in message or "error" in message:
                found.append(message)
    return found


def comparable(value: Any, dirs: tuple[Path, ...]) -> Any:
    """A reply without what differs between two hosts or runs: the QEMU's
    work directory in file names, generated node names, allocated sizes."""
    if isinstance(value, dict):
        return {k: ("<auto>" if k == "node-name" and str(v).startswith("#")
                    else comparable(v, dirs))
                for k, v in value.items() if k != "actual-size"}
    if isinstance(value, list):
        return [comparable(v, dirs) for v in value]
    if isinstance(value, str):
        for d in sorted(map(str, dirs), key=len, reverse=True):  # nested dirs: inner first
            value = value.replace(d, "<dir>")
    return value


def test_a_session_typed_at_the_prompt_replays_with_the_same_replies(
        qemu_scratch: QemuProcess, fresh_scratch: QemuProcess, home: Path,
        tmp_path: Path) -> None:
    recording = tmp_path / "session.qmp"
    shell = Prompt(home, "--compact", "--record", str(recording), str(qemu_scratch.socket_path))
    typed = [
        shell.reply("query-status"),
        shell.reply("stop"),
        shell.reply("cont"),
        shell.reply("block_resize device=scratch size=128M"),
        shell.reply('{"execute": "block_resize", '
                    '"arguments": {"device": "scratch", "size": 201326592}}'),
        shell.reply("set_password protocol=vnc password=hunter2"),  # no VNC: QEMU refuses
    ]
    shell.says("block_resize device=scratch size=huge", "error: .*size")  # never sent
    shell.says("transaction(", "TRANS>", prompt="")
    shell.says("block-dirty-bitmap-add node=scratch name=b1", "TRANS>", prompt="")
    typed.append(shell.reply("block-dirty-bitmap-add node=scratch name=b2 )"))
    typed.append(shell.reply("query-block"))
    shell.says(".record", f"recording to {recording}")
    shell.says(f".record {tmp_path}/no/such/dir.qmp",
               f"error: cannot record to {tmp_path}/no/such/dir.qmp: No such file")
    shell.says(".echo all done", "all done")
    shell.says(".help quit", "quit")
    assert shell.quit() == 0

    text = recording.read_text()
    assert "hunter2" not in text
    lines = text.splitlines()
    assert re.fullmatch(r"# qmpshell session recorded \d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4}"
                        r" against QEMU \d+\.\d+\.\d+.*", lines[0])
    assert lines[1:] == [
        "# replay: qmpshell ADDRESS -f FILE; secrets are masked (********): the replay asks "
        "for each at a terminal, or give --secret NAME=VALUE, --secret NAME=@FILE or "
        "$QMPSHELL_SECRET_NAME",
        "query-status",
        "stop",
        "cont",
        "block_resize device=scratch size=128M",
        "block_resize device=scratch size=192M",  # the raw JSON line, as shorthand
        "set_password protocol=vnc password=********",
        "transaction( block-dirty-bitmap-add node=scratch name=b1 ; "
        "block-dirty-bitmap-add node=scratch name=b2 )",
        "query-block",
        ".echo all done",
    ]

    replay = run_qmpshell(home, str(fresh_scratch.socket_path), "-f", str(recording),
                          "--compact", "--secret", "password=hunter2")
    assert replay.returncode == 1  # the refused set_password fails here too
    assert replay.stderr == (f"{recording}:8: error: GenericError: Could not set password\n")
    assert replay.stdout.splitlines()[-1] == "all done"
    dirs = (qemu_scratch.workdir, fresh_scratch.workdir)
    replayed = replies(replay.stdout)
    assert [comparable(r, dirs) for r in replayed] == [comparable(r, dirs) for r in typed]
    scratch = next(b for b in replayed[-1]["return"] if b["device"] == "scratch")
    assert scratch["inserted"]["image"]["virtual-size"] == 201326592
    assert sorted(b["name"] for b in scratch["inserted"]["dirty-bitmaps"]) == ["b1", "b2"]


def test_record_in_a_command_run_replays(qemu_scratch: QemuProcess,
                                         fresh_scratch: QemuProcess, home: Path,
                                         tmp_path: Path) -> None:
    recording = tmp_path / "run.qmp"
    first = run_qmpshell(home, str(qemu_scratch.socket_path), "--record", str(recording),
                         "-c", "stop", "-c", ".wait STOP timeout=5",
                         "-c", "block_resize device=scratch size=96M", "-c", "nonsense ((",
                         "-c", ".hmp info status", "-c", "query-block", "-c", ".sleep 0")
    assert first.returncode == 1
    assert first.stderr.startswith("<command>:4: error: ")
    assert recording.read_text().splitlines()[2:] == [
        "stop", ".wait STOP timeout=5", "block_resize device=scratch size=96M",
        ".hmp info status", "query-block", ".sleep 0"]
    again = run_qmpshell(home, str(fresh_scratch.socket_path), "-f", str(recording))
    assert again.returncode == 0, again.stderr
    dirs = (qemu_scratch.workdir, fresh_scratch.workdir)
    assert [comparable(r, dirs) for r in replies(again.stdout)] == \
        [comparable(r, dirs) for r in replies(first.stdout)]
    assert "VM status: paused" in again.stdout


def test_record_on_and_off_in_a_script(home: Path, tmp_path: Path) -> None:
    recording = tmp_path / "part.qmp"
    r = run_qmpshell(home, "-n", "-c", "stop", "-c", f".record {recording}", "-c", "cont",
                     "-c", ".record off", "-c", "query-status")
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == ['{"execute": "stop"}', '{"execute": "cont"}',
                                     '{"execute": "query-status"}']
    assert recording.read_text().splitlines()[2:] == ["cont"]


def test_a_record_file_that_cannot_be_opened(qemu: QemuProcess, home: Path,
                                             tmp_path: Path) -> None:
    bad = tmp_path / "no" / "dir" / "s.qmp"
    r = run_qmpshell(home, str(qemu.socket_path), "--record", str(bad), "-c", "query-status")
    assert r.returncode == 2
    assert r.stderr == f"qmpshell: error: cannot record to {bad}: No such file or directory\n"
    assert r.stdout == ""
    r = run_qmpshell(home, str(qemu.socket_path), "-c", f".record {bad}", "-c", "query-status")
    assert r.returncode == 1
    assert r.stderr == \
        f"<command>:1: error: cannot record to {bad}: No such file or directory\n"
    assert json.loads(r.stdout)["return"]["running"] is True
