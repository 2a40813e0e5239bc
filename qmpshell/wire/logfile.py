"""The message log behind ``--logfile``: every message sent and received.

One JSON object per line, appended and flushed per message so that a crash
loses nothing.  Secret arguments are masked here; the server still gets the
real values because only this copy is masked.
"""

from __future__ import annotations

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
    """An append-only JSON-lines log of the protocol traffic."""

    def __init__(self, stream: IO[str]) -> None:
        from datetime import UTC, datetime  # only with --logfile: not at every start-up

        self._stream = stream
        self._now: Callable[[], datetime] = lambda: datetime.now(UTC)

    @classmethod
    def open(cls, path: str) -> MessageLog:
        """Open ``path`` for appending, created 0600 (OSError when it cannot be opened)."""
        return cls(open_private_text(path))

    def write(self, direction: str, message: Any) -> None:
        """Append one message; ``direction`` is :data:`SENT` or :data:`RECEIVED`."""
        entry = {"time": self._now().isoformat(timespec="microseconds"),
                 "direction": direction,
                 "message": mask_value(message)}
        try:
            line = json.dumps(entry)
        except RecursionError:  # deeper than the decoders let through: never
            line = json.dumps({**entry, "message": "(nested too deeply to log)"})
        self._stream.write(line + "\n")
        self._stream.flush()

    def close(self) -> None:
        self._stream.close()
