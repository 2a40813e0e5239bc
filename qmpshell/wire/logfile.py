"""The message log behind ``--logfile``: every message sent and received.

One JSON object per line, appended and flushed per message so that a crash
loses nothing.  Secret arguments are masked here; the server still gets the
real values because only this copy is masked.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from typing import IO, TYPE_CHECKING, Any

from qmpshell.privatefiles import open_private_text
from qmpshell.secrets import mask_value

if TYPE_CHECKING:
    from datetime import datetime

SENT = "sent"
RECEIVED = "received"


class MessageLog:
    """An append-only JSON-lines log of the protocol traffic.

    A write that fails (a full disk) is said once through ``on_error`` and
    logging stops; the session goes on."""

    def __init__(self, stream: IO[str], *, path: str = "",
                 on_error: Callable[[str], None] | None = None) -> None:
        from datetime import UTC, datetime  # only with --logfile: not at every start-up

        self._stream = stream
        self._now: Callable[[], datetime] = lambda: datetime.now(UTC)
        self.path = path
        self._on_error = on_error
        self._failed = False

    @classmethod
    def open(cls, path: str, on_error: Callable[[str], None] | None = None) -> MessageLog:
        """Open ``path`` for appending, created 0600 (OSError when it cannot be opened)."""
        return cls(open_private_text(path), path=path, on_error=on_error)

    def write(self, direction: str, message: Any) -> None:
        """Append one message; ``direction`` is :data:`SENT` or :data:`RECEIVED`."""
        entry = {"time": self._now().isoformat(timespec="microseconds"),
                 "direction": direction,
                 "message": mask_value(message)}
        try:
            line = json.dumps(entry)
        except RecursionError:  # deeper than the decoders let through: never
            line = json.dumps({**entry, "message": "(nested too deeply to log)"})
        if self._failed:
            return
        try:
            self._stream.write(line + "\n")
            self._stream.flush()
        except OSError as error:
            self._failed = True
            if self._on_error is not None:
                self._on_error(f"cannot write to the log file {self.path}: "
                               f"{error.strerror or error}; logging stopped")

    def close(self) -> None:
        with contextlib.suppress(OSError):  # said already, when a write failed
            self._stream.close()
