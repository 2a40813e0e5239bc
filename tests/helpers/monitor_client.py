"""A plain QMP client on a second monitor of the QEMU under test: it does
what another tool (or person) would do to the same VM meanwhile."""

from __future__ import annotations

import json
import socket
from typing import Any


class MonitorClient:
    """Connected and negotiated on ``127.0.0.1:port``; each read waits at most ``timeout``."""

    def __init__(self, port: int, timeout: float) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.file = self.sock.makefile("rw")
        self.file.readline()  # greeting
        self.execute("qmp_capabilities")

    def execute(self, command: str) -> dict[str, Any]:
        """The reply to ``command`` (events before it are skipped)."""
        self.file.write(json.dumps({"execute": command}) + "\n")
        self.file.flush()
        while True:
            message = json.loads(self.file.readline())
            if "event" not in message:
                return dict(message)

    def close(self) -> None:
        self.file.close()
        self.sock.close()
