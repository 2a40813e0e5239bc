"""The history file: where it lives, and no secret in clear on disk."""

from __future__ import annotations

from pathlib import Path

import pytest

from qmpshell.prompt.history import MaskedFileHistory, default_history_path


def test_default_path_follows_xdg(tmp_path: Path) -> None:
    assert default_history_path({"XDG_STATE_HOME": str(tmp_path), "HOME": "/h"}) == (
        tmp_path / "qmpshell" / "history")
    assert default_history_path({"HOME": "/h"}) == Path("/h/.local/state/qmpshell/history")
    # a relative XDG_STATE_HOME is invalid per the spec and ignored
    assert default_history_path({"XDG_STATE_HOME": "rel", "HOME": "/h"}) == Path(
        "/h/.local/state/qmpshell/history")


def test_directory_created_and_secrets_masked(tmp_path: Path) -> None:
    path = tmp_path / "state" / "qmpshell" / "history"
    history = MaskedFileHistory(path)
    history.append_string("set_password protocol=vnc password=secret123")
    history.append_string('{"execute": "set_password", "arguments": {"password": "hunter2"}}')
    history.append_string("query-status")
    text = path.read_text()
    assert "secret123" not in text and "hunter2" not in text
    assert "+set_password protocol=vnc password=********" in text
    assert "+query-status" in text
    again = list(MaskedFileHistory(path).load_history_strings())
    assert again[0] == "query-status"
    assert again[2] == "set_password protocol=vnc password=********"


def test_limit_keeps_the_newest(tmp_path: Path) -> None:
    path = tmp_path / "h"
    history = MaskedFileHistory(path)
    for i in range(5):
        history.append_string(f"echo {i}")
    assert list(MaskedFileHistory(path, limit=2).load_history_strings()) == ["echo 4", "echo 3"]


def test_read_from_the_end_as_file_history_reads(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Entries read from the file's tail (in small pieces here) are those
    prompt_toolkit's FileHistory reads, multi-line and odd lines included."""
    from prompt_toolkit.history import FileHistory

    path = tmp_path / "h"
    path.write_bytes(b"+first\n\n# t\n+multi\n+line\n\nnot an entry\n+caf\xc3\xa9 \xff\n"
                     + b"".join(b"\n# t\n+echo %d\n" % i for i in range(50)) + b"+no newline")
    want = list(FileHistory(str(path)).load_history_strings())
    monkeypatch.setattr(MaskedFileHistory, "TAIL", 7)
    for limit in (0, 1, 3, 52, 53, 54, 10000):
        assert list(MaskedFileHistory(path, limit=limit).load_history_strings()) == want[:limit]
    assert want[-3:] == ["caf\u00e9 \ufffd", "multi\nline", "first"]
