"""A session file is split into lines exactly as stdin is: at \\n and \\r\\n,
never at form feed, U+2028 or other Unicode line breaks."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import cast

import pytest

from qmpshell.cli.main import StdinLines, split_lines
from qmpshell.runner.pipeline import Runner


def test_lines_split_at_newline_only() -> None:
    assert split_lines("a\nb\r\nc") == ["a", "b", "c"]
    assert split_lines("a\n") == ["a"]
    assert split_lines("a\n\n") == ["a", ""]
    assert split_lines("") == []
    for odd in ("\f", "\v", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029", "\r"):
        assert split_lines(f"# x{odd}quit\nstop") == [f"# x{odd}quit", "stop"]


def dry_run(args: list[str], stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "qmpshell", "-n", "--compact", *args],
                          input=stdin, capture_output=True, timeout=60)


def test_a_comment_cannot_hide_a_command_and_file_and_stdin_agree(tmp_path: Path) -> None:
    text = "# note\u2028stop\r\ncont\n# a\fsystem_reset\nquery-status\x85\n".encode()
    session = tmp_path / "s.qmp"
    session.write_bytes(text)
    from_file = dry_run(["-f", str(session)])
    from_stdin = dry_run([], stdin=text)
    assert from_file.returncode == 0, from_file.stderr
    assert from_file.stdout == from_stdin.stdout
    sent = from_file.stdout.decode().splitlines()
    assert [line.split('"')[3] for line in sent] == ["cont", "query-status"]


def test_line_numbers_are_an_editors(tmp_path: Path) -> None:
    session = tmp_path / "s.qmp"
    session.write_bytes("# a\u2028b\fc\r\nnope-such-command\n".encode())
    done = dry_run(["-f", str(session)])
    assert done.returncode == 1
    assert f"{session}:2: error:" in done.stderr.decode()


class _NoServer:
    """What stdin's lines need of a runner when no server is connected."""

    connection = None

    def drain_events(self) -> None:
        pass


def _stdin_pipe(monkeypatch: pytest.MonkeyPatch, data: bytes, *, close: bool) -> int:
    read_end, write_end = os.pipe()
    os.write(write_end, data)
    if close:
        os.close(write_end)
    monkeypatch.setattr(sys, "stdin", os.fdopen(read_end, "rb", buffering=0))
    return write_end


def test_stdin_lines_know_the_lines_already_read_and_never_wait_for_more(
        monkeypatch: pytest.MonkeyPatch) -> None:
    _stdin_pipe(monkeypatch, b"a\nb\r\nc", close=True)
    lines = StdinLines(cast("Runner", _NoServer()))
    got = iter(lines)
    assert next(got) == "a"
    assert lines.following(4) == ["b"]  # 'c' has no end yet
    assert next(got) == "b"
    assert lines.following(4) == []
    assert next(got) == "c"
    assert list(got) == []


def test_stdin_lines_read_ahead_nothing_that_has_not_come(
        monkeypatch: pytest.MonkeyPatch) -> None:
    writer = _stdin_pipe(monkeypatch, b"x\ny\nz\n", close=False)
    try:
        lines = StdinLines(cast("Runner", _NoServer()))
        got = iter(lines)
        assert next(got) == "x"
        assert lines.following(1) == ["y"]
        assert lines.following(9) == ["y", "z"]
        assert next(got) == "y"
        assert next(got) == "z"
        assert lines.following(9) == []  # the pipe is still open: nothing is waited for
    finally:
        os.close(writer)
