"""The prompt's persistent history, written with secrets masked.

Passwords typed at the prompt (``set_password ... password=...``) must not
end up in a file in the user's home; the line the server receives is not
changed, only the copy kept on disk.
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Callable, Iterable
from pathlib import Path

from prompt_toolkit.history import FileHistory

from qmpshell.privatefiles import make_private_dirs, open_private
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
    keeps only the newest ``limit`` entries when reading.

    Each entry is appended in one write under an advisory lock, so shells
    sharing the file never interleave entries, whatever their size.  A file
    that cannot be read or written (a directory, no permission, a full disk)
    is said once through ``on_error``; the prompt goes on with the history it
    has in memory."""

    TAIL = 1 << 18
    """Bytes read from the end of the file at first (more when they hold too
    few entries): about 5000 entries of a typical history."""

    def __init__(self, path: str | os.PathLike[str], limit: int = 10000, *,
                 hmp: bool = False, on_error: Callable[[str], None] | None = None) -> None:
        target = Path(path)
        make_private_dirs(target.parent)
        super().__init__(str(target))
        self._limit = limit
        self._hmp = hmp
        self._on_error = on_error
        self._failed = False

    def _fail(self, doing: str, error: OSError) -> None:
        if not self._failed and self._on_error is not None:
            self._on_error(f"history file {self.filename!s}: cannot {doing}: "
                           f"{error.strerror or error}; history is kept for this session only")
        self._failed = True

    def load_history_strings(self) -> Iterable[str]:
        """The newest ``limit`` entries, newest first, as :class:`FileHistory`
        reads them, but read from the end of the file, so that years of
        history cost a start no more than their tail."""
        try:
            return self._load_newest()
        except OSError as error:
            self._fail("read it", error)
            return []

    def _load_newest(self) -> list[str]:
        limit = max(self._limit, 0)
        if limit == 0 or not os.path.exists(self.filename):
            return []
        with open(self.filename, "rb") as f:
            size = f.seek(0, os.SEEK_END)
            chunk = self.TAIL
            while True:
                start = max(size - chunk, 0)
                f.seek(start)
                segments = f.read().decode("utf-8", errors="replace").split("\n")
                newest = _newest_entries(segments[1:] if start else segments, limit,
                                         whole=start == 0)
                if newest is not None:
                    return newest
                chunk *= 4

    def store_string(self, string: str) -> None:
        """Append one entry, secrets masked, in prompt_toolkit's format."""
        lines = "".join(f"+{mask_line(line, hmp=self._hmp)}\n" for line in string.split("\n"))
        entry = f"\n# {datetime.datetime.now()}\n{lines}".encode("utf-8", errors="replace")
        if self._failed:
            return
        try:
            append_entry(self.filename, entry)
        except OSError as error:
            self._fail("write to it", error)


def append_entry(path: str | bytes | os.PathLike[str] | os.PathLike[bytes],
                 entry: bytes) -> None:
    """Append ``entry`` whole: one write (continued only if the system cut
    it short) while holding an exclusive advisory lock on the file."""
    import fcntl

    fd = open_private(path)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        view = memoryview(entry)
        while view:
            view = view[os.write(fd, view):]
    finally:
        os.close(fd)  # releases the lock


def _newest_entries(segments: list[str], limit: int, *, whole: bool) -> list[str] | None:
    """The newest ``limit`` entries among the lines (``segments``, split at
    newlines, the last one at the end of the file), newest first; None when
    they hold fewer and are not the ``whole`` file (the oldest entry found
    may have begun before them)."""
    strings: list[str] = []
    entry: list[str] = []  # the '+' lines of one entry, last first
    last = len(segments) - 1
    for index in range(last, -1, -1):
        segment = segments[index]
        if segment.startswith("+"):
            entry.append(segment[1:] + "\n" if index < last else segment[1:])
            continue
        if entry:
            strings.append("".join(reversed(entry))[:-1])
            entry = []
            if len(strings) >= limit:
                return strings
    if not whole:
        return None
    if entry:
        strings.append("".join(reversed(entry))[:-1])
    return strings[:limit]
