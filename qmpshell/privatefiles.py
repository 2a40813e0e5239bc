"""Files that only their owner may read: history, logs, recordings, the
schema cache.  They hold what was typed and what the server said (masked,
but still private), so they are created 0600, in directories created 0700,
whatever the umask.  Files and directories that exist already keep their
modes: they are the user's choice.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TextIO

FILE_MODE = 0o600
DIR_MODE = 0o700


def make_private_dirs(path: str | os.PathLike[str]) -> Path:
    """``path`` and its missing parents, each created 0700 (OSError when one
    cannot be: the caller names the file it wanted)."""
    target = Path(path)
    missing = []
    for directory in (target, *target.parents):
        if directory.is_dir():
            break
        missing.append(directory)
    for directory in reversed(missing):
        try:
            os.mkdir(directory, DIR_MODE)
        except FileExistsError:
            if not directory.is_dir():
                raise
            continue
        os.chmod(directory, DIR_MODE)  # the umask may have taken bits away
    return target


def open_private(path: str | bytes | os.PathLike[str] | os.PathLike[bytes], *,
                 append: bool = True) -> int:
    """A file descriptor open for writing (appending by default); a new
    file is created 0600."""
    flags = os.O_WRONLY | os.O_CLOEXEC | (os.O_APPEND if append else os.O_TRUNC)
    try:
        fd = os.open(path, flags | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        return os.open(path, flags)
    try:
        os.fchmod(fd, FILE_MODE)
    except OSError:
        os.close(fd)
        raise
    return fd


def open_private_text(path: str | os.PathLike[str]) -> TextIO:
    """:func:`open_private` as a text file for appending, UTF-8."""
    fd = open_private(path)
    try:
        return os.fdopen(fd, "a", encoding="utf-8")
    except Exception:
        os.close(fd)
        raise
