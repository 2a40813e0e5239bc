"""Dry runs and ``--schema`` files against a modern QEMU's schema: the cache
of the last QEMU connected to, saved schemas documented by the bundled
table, and deprecated members warned about before sending."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import FIXTURES, isolated_env
from helpers.qemu_process import QemuProcess

QMPSHELL = [sys.executable, "-m", "qmpshell"]
SAVED_72 = FIXTURES / "qemu-7.2-query-qmp-schema.json"

MODERN_SESSION = """\
# a mirror job the way QEMU 7.2 is driven
blockdev-add driver=qcow2 node-name=disk file.driver=file file.filename=/tmp/disk.qcow2
blockdev-add driver=qcow2 node-name=copy file.driver=file file.filename=/tmp/copy.qcow2
blockdev-mirror job-id=m device=disk target=copy sync=full
.wait BLOCK_JOB_READY timeout=10
job-complete id=m
"""


def run(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*QMPSHELL, *args], env=isolated_env(home), stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=60)


def test_a_dry_run_checks_against_the_last_qemu_connected_to(
        qemu: QemuProcess, home: Path, tmp_path: Path) -> None:
    session = tmp_path / "mirror.qmp"
    session.write_text(MODERN_SESSION)
    before = run(home, "-n", "-f", str(session))
    assert before.returncode == 1
    assert "blockdev-mirror" in before.stderr  # the bundled QEMU 2.3 table has no such command

    connected = run(home, str(qemu.socket_path), "-c", "query-status")
    assert connected.returncode == 0, connected.stderr

    after = run(home, "-n", "-f", str(session))
    assert after.returncode == 0, after.stderr
    notes = after.stderr.splitlines()
    assert len(notes) == 1, after.stderr
    assert notes[0].startswith("qmpshell: checking against the schema of QEMU 7.2.")
    assert notes[0].endswith(", the last one connected to (--schema FILE chooses another)")
    sent = [json.loads(line) for line in after.stdout.splitlines()]
    assert [r["execute"] for r in sent] == ["blockdev-add", "blockdev-add", "blockdev-mirror",
                                            "job-complete"]
    assert sent[0]["arguments"]["file"] == {"driver": "file", "filename": "/tmp/disk.qcow2"}

    shown = run(home, "-n", "-c", ".schema")
    assert shown.stdout.startswith("schema: cached QEMU 7.2."), shown.stdout
    assert "the last one connected to" in shown.stdout

    chosen = run(home, "-n", "--schema", str(FIXTURES / "none.json"), "-c", "query-status")
    assert chosen.returncode == 2  # --schema chooses exactly, even a missing file


def test_a_saved_schema_is_documented_and_claims_no_server(home: Path) -> None:
    r = run(home, "-n", "--schema", str(SAVED_72), "-c", ".help query-status",
            "-c", ".help blockdev-mirror", "-c", ".help")
    assert r.returncode == 0, r.stderr
    assert "connected server" not in r.stdout
    assert r.stdout.startswith("query-status - Query the run status")  # documented
    assert "blockdev-mirror - Start mirroring" in r.stdout


def test_an_undocumented_command_of_a_saved_schema_names_the_file(home: Path,
                                                                  tmp_path: Path) -> None:
    saved = tmp_path / "new.json"
    saved.write_text(json.dumps({"return": [
        {"name": "x-brand-new", "meta-type": "command", "arg-type": "0", "ret-type": "0",
         "features": ["unstable"]},
        {"name": "0", "meta-type": "object", "members": []}]}))
    r = run(home, "-n", "--schema", str(saved), "-c", ".help x-brand-new", "-c", ".help")
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[:2] == [
        "x-brand-new", f"(unstable; offered by the schema in {saved}; not in the bundled table)"]
    assert f"Offered by the schema in {saved} only:\n  x-brand-new" in r.stdout
    assert "connected server" not in r.stdout


@pytest.mark.parametrize("text", ["[]", '{"return": []}',
                                  '[{"name": "int", "meta-type": "builtin", "json-type": "int"}]'])
def test_a_schema_file_without_commands_is_refused(home: Path, tmp_path: Path,
                                                   text: str) -> None:
    empty = tmp_path / "empty.json"
    empty.write_text(text)
    r = run(home, "-n", "--schema", str(empty), "-c", "query-status")
    assert r.returncode == 2
    assert r.stdout == ""
    assert r.stderr == (f"qmpshell: error: {empty}: no commands in this schema; give a saved "
                        "query-qmp-schema reply (.schema save FILE) or a spec file\n")


def test_deprecated_use_is_warned_about_before_sending(home: Path) -> None:
    r = run(home, "-n", "--schema", str(SAVED_72),
            "-c", "drive-backup device=d target=/tmp/b.qcow2 sync=full",
            "-c", "block-commit device=d base=/tmp/base.qcow2",
            "-c", "x-query-jit", "-c", "query-status")
    assert r.returncode == 0, r.stderr
    assert r.stderr.splitlines() == ["<command>:1: warning: 'drive-backup' is deprecated",
                                     "<command>:2: warning: 'base' is deprecated"]
    assert len(r.stdout.splitlines()) == 4
