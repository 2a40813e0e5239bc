"""The prompt's persistent history, written with secrets masked.

Passwords typed at the prompt (``set_password ... password=...``) must not
end up in a file in the user's home; the line the server receives is not
changed, only the copy kept on disk.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from prompt_toolkit.history import FileHistory

from qmpshell.secrets import mask_line


def default_history_path(environ: dict[str, str] | os._Environ[str]) -> Path:
    """``$XDG_STATE_HOME/qmpshell/history``, else ``~/.local/state/qmpshell/history``
    (``environ`` is passed in by cli, the one module that reads it)."""
    state = environ.get("XDG_STATE_HOME") or ""
    base = Path(state) if state and Path(state).is_absolute() else (
        Path(environ.get("HOME") or Path.home()) / ".local" / "state")
    return base / "qmpshell" / "history"


class MaskedFileHistory(FileHistory):
    """A :class:`FileHistory` that masks secret values before writing them and
    keeps only the newest ``limit`` entries when reading."""

    def __init__(self, path: str | os.PathLike[str], limit: int = 10000) -> None:
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        super().__init__(str(target))
        self._limit = limit

    def load_history_strings(self) -> Iterable[str]:
        for count, line in enumerate(super().load_history_strings()):
            if count >= self._limit:
                break
            yield line

    def store_string(self, string: str) -> None:
        super().store_string("\n".join(mask_line(line) for line in string.split("\n")))
