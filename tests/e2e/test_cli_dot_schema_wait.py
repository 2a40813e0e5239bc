"""``.schema``, ``.schema save FILE`` and ``.wait`` without a timeout, through
the installed command against a real QEMU."""

from __future__ import annotations

import json
from pathlib import Path

from helpers.cli import empty_cache, qmpshell, sock
from helpers.qemu_process import QemuProcess

from qmpshell.cli.main import SCRIPT_WAIT_TIMEOUT, wait_timeout
from qmpshell.settings import Settings

BLOCKDEV_ADD = "blockdev-add driver=qcow2 node-name=n file.driver=file file.filename=/x"


def test_schema_save_then_type_lines_with_it_offline(qemu: QemuProcess, tmp_path: Path) -> None:
    saved = tmp_path / "qemu.schema.json"
    r = qmpshell(sock(qemu), "-c", f".schema save {saved}")
    assert r.returncode == 0, r.stderr
    assert r.stdout == ""  # a script's stdout stays QEMU's messages
    assert "query-qmp-schema" in saved.read_text()

    r = qmpshell("-n", "--schema", str(saved), "-c", BLOCKDEV_ADD)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == {"execute": "blockdev-add", "arguments": {
        "driver": "qcow2", "node-name": "n", "file": {"driver": "file", "filename": "/x"}}}

    bundled_only = qmpshell("-n", "-c", BLOCKDEV_ADD, env=empty_cache(tmp_path))
    assert bundled_only.returncode == 1
    assert bundled_only.stdout == ""
    assert bundled_only.stderr.startswith("<command>:1: error: ")


def test_schema_says_where_it_came_from(qemu: QemuProcess, tmp_path: Path) -> None:
    saved = tmp_path / "s.json"
    live = qmpshell(sock(qemu), "-c", ".schema", "-c", f".schema save {saved}")
    assert live.returncode == 0, live.stderr
    assert live.stdout.startswith("schema: live QEMU ")
    assert live.stdout.rstrip().endswith(" commands")
    count = int(live.stdout.split(", ")[-1].split()[0])
    assert count > 150

    from_file = qmpshell("-n", "--schema", str(saved), "-c", ".schema")
    assert from_file.stdout == f"schema: the file {saved}, {count} commands\n"
    bundled = qmpshell("-n", "-c", ".schema", env=empty_cache(tmp_path))
    assert bundled.stdout.startswith("schema: the bundled QMP spec, ")


def test_schema_save_errors_are_one_line(qemu: QemuProcess, tmp_path: Path) -> None:
    target = tmp_path / "no" / "dir" / "s.json"
    r = qmpshell(sock(qemu), "-c", f".schema save {target}", "-c", ".echo goes on")
    assert r.returncode == 1
    assert r.stdout == "goes on\n"
    assert r.stderr.startswith(f"<command>:1: error: {target}: cannot write: ")
    assert len(r.stderr.splitlines()) == 1
    r = qmpshell("-n", "-c", f".schema save {tmp_path / 's.json'}", env=empty_cache(tmp_path))
    assert r.returncode == 1
    assert r.stderr == ("<command>:1: error: .schema save needs a server: it saves the "
                        "connected QEMU's own schema\n")
    r = qmpshell("-n", "-c", ".schema load x", env=empty_cache(tmp_path))
    assert r.stderr == "<command>:1: error: .schema takes nothing, or save FILE: " \
                       ".schema save FILE\n"


def test_wait_without_timeout_honours_the_timeout_option(qemu: QemuProcess) -> None:
    r = qmpshell(sock(qemu), "--timeout", "0.5", "-c", ".wait SUSPEND_DISK", "-c", ".echo next")
    assert r.returncode == 1
    assert r.stderr == ("<command>:1: error: no SUSPEND_DISK event within 0.5 s "
                        "(--timeout; .wait SUSPEND_DISK timeout=S to change it)\n")
    assert r.stdout == "next\n"


def test_wait_without_timeout_defaults_in_scripts_only() -> None:
    assert wait_timeout(Settings(interactive=False)) == SCRIPT_WAIT_TIMEOUT == 60.0
    assert wait_timeout(Settings(interactive=True)) is None  # Ctrl-C abandons it
    assert wait_timeout(Settings(interactive=True, timeout=3.0)) == 3.0
    assert wait_timeout(Settings(interactive=False, timeout=0.5)) == 0.5
