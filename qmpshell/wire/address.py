"""Addresses as the user types them, TLS certificates, and the sentence for
each way connecting can fail: shared by both drivers.  ``ssl`` is imported
only when TLS is asked for."""

from __future__ import annotations

import socket
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import ssl

CONNECT_TIMEOUT = 10.0
"""Seconds to wait for the connection and greeting when --timeout is unset,
so that a server that never greets cannot hang a script."""


@dataclass(frozen=True)
class TLSOptions:
    """Certificates for a TLS connection (QEMU's tls-creds-x509 on a socket)."""

    ca: str | None = None
    cert: str | None = None
    key: str | None = None
    server_name: str | None = None

    def context(self) -> ssl.SSLContext:
        """An SSL context that verifies the server against ``ca``."""
        import ssl

        ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=self.ca)
        if self.cert:
            ctx.load_cert_chain(self.cert, self.key)
        return ctx


def parse_address(address: str) -> str | tuple[str, int]:
    """A UNIX socket path, or (host, port) for ``HOST:PORT`` / ``[V6]:PORT``."""
    if "/" not in address:
        host, sep, port = address.rpartition(":")
        if sep and host and port.isdigit():
            return host.strip("[]"), int(port)
    return address


def tls_context(address: str, tls: TLSOptions) -> ssl.SSLContext:
    """The context for ``address`` (OSError-free: a sentence on failure)."""
    from qmpshell.errors import ConnectError

    if not isinstance(parse_address(address), tuple):
        raise ConnectError(f"{address}: TLS needs a HOST:PORT address")
    import ssl

    try:
        return tls.context()
    except (OSError, ssl.SSLError) as exc:
        raise ConnectError(f"cannot load the TLS certificates: {exc}") from None


def open_socket(address: str, tls: TLSOptions | None, timeout: float) -> socket.socket:
    """A connected (and, with ``tls``, handshaken) blocking socket; OSError
    (ssl.SSLError included) when that fails."""
    target = parse_address(address)
    if isinstance(target, tuple):
        sock = socket.create_connection(target, timeout=timeout)
        if tls is not None:
            context = tls_context(address, tls)
            try:
                sock = context.wrap_socket(sock, server_hostname=tls.server_name or target[0])
            except BaseException:
                sock.close()
                raise
        else:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.settimeout(timeout)
        sock.connect(target)
    except BaseException:
        sock.close()
        raise
    return sock


def connect_reason(exc: BaseException) -> str:
    """A sentence for why connecting failed."""
    if isinstance(exc, FileNotFoundError):
        return "no such socket (is QEMU running with -qmp unix:PATH,server=on?)"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused (is QEMU listening there?)"
    if isinstance(exc, PermissionError):
        return "permission denied"
    if isinstance(exc, socket.gaierror):
        return f"cannot resolve the host name ({exc.strerror})"
    ssl = sys.modules.get("ssl")
    if ssl is not None and isinstance(exc, ssl.SSLError):
        return f"TLS handshake failed: {exc.reason or exc}"
    return lost_reason(exc)


def lost_reason(exc: BaseException) -> str:
    """A sentence for a transport failure (the connection is gone)."""
    if isinstance(exc, OSError):
        return exc.strerror or str(exc) or type(exc).__name__
    return str(exc) or type(exc).__name__
