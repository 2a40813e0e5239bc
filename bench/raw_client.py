"""The raw-socket limit: the least a client can do for N sequential requests.

A plain blocking socket, no library, no asyncio: greeting,
qmp_capabilities, then N times the same request, each sent only after the
previous reply arrived (as a replayed session file does).  It does the same
work as ``qmpshell SOCK -f FILE --compact``, so the comparison is fair:
requests go out as qmpshell sends them to QEMU 3.0 and later (compact JSON,
no id, no newline: QEMU reads a request a byte per turn of its loop, so
fewer bytes are less of its time; ``ids=True`` sends each with an id and a
newline, as before), and every reply and event is written as one compact
JSON line without its id, flushed as it arrives.

Run: ``python bench/raw_client.py SOCKET N [COMMAND]``; the JSON lines go to
stdout, the seconds taken by the N requests (connection set-up excluded) to
stderr.
"""

from __future__ import annotations

import json
import socket
import sys
import time
from typing import IO


def _reply(stream: socket.SocketIO, buffer: bytearray, out: IO[str] | None) -> bytes:
    """The next line that is not an event (events are written to ``out``)."""
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
        if out is not None:
            _write(out, line)


def _write(out: IO[str], line: bytes) -> None:
    message = json.loads(line)
    message.pop("id", None)
    out.write(json.dumps(message) + "\n")
    out.flush()


def run(path: str, count: int, command: str = "query-status", ids: bool = False,
        out: IO[str] | None = None) -> float:
    """Seconds for ``count`` sequential ``command`` requests over ``path``,
    each reply written to ``out`` (when given) as qmpshell writes it."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.connect(path)
        stream = socket.SocketIO(sock, "rwb")
        buffer = bytearray()
        _reply(stream, buffer, None)  # greeting
        sock.sendall(b'{"execute":"qmp_capabilities"}')
        _reply(stream, buffer, None)
        plain = b'{"execute":"%s"}' % command.encode()
        with_id = b'{"execute":"%s","id":%%d}\n' % command.encode()
        start = time.perf_counter()
        for i in range(count):
            sock.sendall(with_id % i if ids else plain)
            line = _reply(stream, buffer, out)
            if out is not None:
                _write(out, line)
        return time.perf_counter() - start


def main(argv: list[str]) -> int:
    if len(argv) not in (2, 3):
        sys.stderr.write("usage: raw_client.py SOCKET N [COMMAND]\n")
        return 2
    took = run(argv[0], int(argv[1]), *argv[2:], out=sys.stdout)
    sys.stderr.write(f"{took:.6f}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
