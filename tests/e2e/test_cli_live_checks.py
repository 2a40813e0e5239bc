"""Connected to a real QEMU, the server's own schema is the authority: a
mistyped command or argument is refused by the shell, with a suggestion,
before anything is sent."""

from __future__ import annotations

import json
from pathlib import Path

from helpers.cli import qmpshell, sock
from helpers.qemu_process import QemuProcess


def sent_commands(log: Path) -> list[str]:
    names = []
    for line in log.read_text().splitlines():
        entry = json.loads(line)
        message = entry.get("message", entry)
        if isinstance(message, dict) and "execute" in message:
            names.append(message["execute"])
    return names


def test_a_mistyped_command_is_refused_with_a_suggestion(qemu_scratch: QemuProcess,
                                                         tmp_path: Path) -> None:
    log = tmp_path / "log.jsonl"
    r = qmpshell(sock(qemu_scratch), "-l", str(log),
                 "-c", "block_resiz device=scratch size=1G", "-c", "query-status")
    assert r.returncode == 1
    assert r.stderr.startswith("<command>:1: error:")
    assert "unknown command 'block_resiz' (did you mean 'block_resize'?)" in r.stderr
    assert "block_resiz" not in sent_commands(log)
    assert "query-status" in sent_commands(log)


def test_a_mistyped_argument_is_refused_with_a_suggestion(qemu_scratch: QemuProcess) -> None:
    r = qmpshell(sock(qemu_scratch), "-c", "block_resize device=scratch sise=1G")
    assert r.returncode == 1
    assert "block_resize: unknown argument 'sise' (did you mean 'size'?)" in r.stderr
    assert r.stdout == ""


def test_a_command_only_newer_qemu_has_is_typed_by_the_live_schema(
        qemu_scratch: QemuProcess) -> None:
    r = qmpshell(sock(qemu_scratch), "-c", "block-dirty-bitmap-add node=scratch name=bm0",
                 "-c", "query-block")
    assert r.returncode == 0, r.stderr
    added, block = (json.loads(line) for line in r.stdout.splitlines())
    assert added == {"return": {}}
    scratch = next(b for b in block["return"] if b["device"] == "scratch")
    assert [b["name"] for b in scratch["inserted"].get("dirty-bitmaps", [])] == ["bm0"]
