"""The history file: where it lives, and no secret in clear on disk."""

from __future__ import annotations

from pathlib import Path

from qmpshell.history import MaskedFileHistory, default_history_path


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
