"""The raw-socket limit: the least a client can do for N sequential requests.

A plain blocking socket, no library, no parsing beyond finding the reply
line: greeting, qmp_capabilities, then N times the same request, each sent
only after the previous reply arrived (as a replayed session file does).
Requests carry an ``id`` like qmpshell's do (QEMU itself takes measurably
longer to answer a request with an id); ``ids=False`` leaves it out.

Run: ``python bench/raw_client.py SOCKET N [COMMAND]``; prints the seconds
taken by the N requests (connection set-up excluded) on stdout.
"""

from __future__ import annotations

import socket
import sys
import time


def _reply(stream: socket.SocketIO, buffer: bytearray) -> bytes:
    """The next line that is not an event."""
    while True:
        end = buffer.find(b"\n")
        while end < 0:
            chunk = stream.read(65536)
            if not chunk:
                raise EOFError("server closed the connection")
            buffer += chunk
            end = buffer.find(b"\n")
        line = bytes(buffer[: end + 1])
        del buffer[: end + 1]
        if b'"event"' not in line[:64]:
            return line


def run(path: str, count: int, command: str = "query-status", ids: bool = True) -> float:
    """Seconds for ``count`` sequential ``command`` requests over ``path``."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.connect(path)
        stream = socket.SocketIO(sock, "rwb")
        buffer = bytearray()
        _reply(stream, buffer)  # greeting
        sock.sendall(b'{"execute": "qmp_capabilities"}\n')
        _reply(stream, buffer)
        plain = b'{"execute": "%s"}\n' % command.encode()
        with_id = b'{"execute": "%s", "id": %%d}\n' % command.encode()
        start = time.perf_counter()
        for i in range(count):
            sock.sendall(with_id % i if ids else plain)
            _reply(stream, buffer)
        return time.perf_counter() - start


def main(argv: list[str]) -> int:
    if len(argv) not in (2, 3):
        sys.stderr.write("usage: raw_client.py SOCKET N [COMMAND]\n")
        return 2
    print(f"{run(argv[0], int(argv[1]), *argv[2:]):.6f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
