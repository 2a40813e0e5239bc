"""Addresses as the user types them, TLS certificates, and the sentence for
each way connecting can fail: shared by both drivers.  ``ssl`` is imported
only when TLS is asked for."""

from __future__ import annotations

import os
import socket
import sys

from qmpshell.records import Record

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing
if TYPE_CHECKING:
    import ssl

CONNECT_TIMEOUT = 10.0
"""Seconds to wait for the connection and greeting when --timeout is unset,
so that a server that never greets cannot hang a script."""


TLS_NUDGE = b"\n"
"""Sent as a TLS record of its own after each request.  QEMU before 8.0 (its
TLS channel leaves decrypted data waiting in GnuTLS until the socket is
readable again) answers a request only once the next record arrives; a
record holding only a newline, whitespace QMP ignores, is that record."""


class TLSOptions(Record):
    """Certificates for a TLS connection (QEMU's tls-creds-x509 on a socket)."""

    __slots__ = ("ca", "cert", "key", "server_name")

    ca: str | None
    cert: str | None
    key: str | None
    server_name: str | None

    def __init__(
        self,
        ca: str | None = None,
        cert: str | None = None,
        key: str | None = None,
        server_name: str | None = None,
    ) -> None:
        self.ca = ca
        self.cert = cert
        self.key = key
        self.server_name = server_name

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
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # no wait per nudge
        if tls is not None:
            context = tls_context(address, tls)
            try:
                sock = context.wrap_socket(sock, server_hostname=tls.server_name or target[0])
            except BaseException:
                sock.close()
                raise
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
    return lost_reason(exc)


def lost_reason(exc: BaseException) -> str:
    """A sentence for a transport failure (the connection is gone)."""
    ssl = sys.modules.get("ssl")
    if ssl is not None and isinstance(exc, ssl.SSLError):
        return tls_reason(exc)
    if isinstance(exc, OSError):
        return exc.strerror or str(exc) or type(exc).__name__
    return str(exc) or type(exc).__name__


_SERVER_CERT_PROBLEMS = {
    9: "the server's certificate is not valid yet",
    10: "the server's certificate has expired",
    18: "the server's certificate is self-signed and not the --tls-ca certificate",
    19: "the server's certificate is not signed by the --tls-ca CA",
    20: "the server's certificate is not signed by the --tls-ca CA",
    21: "the server's certificate is not signed by the --tls-ca CA",
    62: "the server's certificate is for another host name or address",
    64: "the server's certificate is for another IP address",
}
"""OpenSSL's X509_V_ERR_* codes -> what is wrong with the server's certificate."""

_TLS_ALERTS = {
    "TLSV13_ALERT_CERTIFICATE_REQUIRED":
        "the server wants a client certificate: give --tls-cert and --tls-key",
    "SSLV3_ALERT_CERTIFICATE_EXPIRED": "the server refused our certificate: it has expired",
    "TLSV1_ALERT_UNKNOWN_CA": "the server refused our certificate: not signed by a CA it trusts",
    "SSLV3_ALERT_BAD_CERTIFICATE": "the server refused our certificate (--tls-cert)",
    "SSLV3_ALERT_CERTIFICATE_REVOKED": "the server refused our certificate: it is revoked",
    "SSLV3_ALERT_HANDSHAKE_FAILURE":
        "the server refused the handshake (no client certificate, or none it accepts?)",
    "TLSV1_ALERT_PROTOCOL_VERSION": "the server speaks no TLS version we accept",
    "WRONG_VERSION_NUMBER": "the server does not speak TLS there (a plain QMP socket?)",
    "UNEXPECTED_EOF_WHILE_READING":
        "the server hung up (does it speak TLS there? does it want another certificate?)",
}
"""OpenSSL's reasons for the alerts a TLS server sends -> what it means here."""


def closed_before_greeting(reason: str, tls: TLSOptions | None) -> str:
    """``reason`` for a server that hung up before its greeting; over TLS,
    with what that means from QEMU, which refuses a client certificate by
    closing the connection after the handshake rather than with an alert."""
    if tls is None or reason.startswith("TLS "):  # an alert already said why
        return reason
    return (f"{reason}; QEMU does this when it refuses the client certificate (none, "
            "expired, or not signed by a CA it trusts): check --tls-cert and --tls-key")


def tls_reason(exc: BaseException) -> str:
    """One line naming why TLS failed: the server's certificate (expired,
    another CA, another host), or the server refusing ours (none, expired,
    unknown CA), with OpenSSL's own words when they say more."""
    code = getattr(exc, "verify_code", None)
    verify = getattr(exc, "verify_message", None)
    if isinstance(code, int) and verify:
        problem = _SERVER_CERT_PROBLEMS.get(code, "the server's certificate cannot be trusted")
        return f"TLS handshake failed: {problem} ({verify})"
    reason = str(getattr(exc, "reason", None) or "")
    if reason in _TLS_ALERTS:
        return f"TLS handshake failed: {_TLS_ALERTS[reason]}"
    return f"TLS handshake failed: {reason or exc}"


def same_address(one: str | None, other: str | None) -> bool:
    """Both name the same server (a UNIX socket however its path is spelt)."""
    if not one or not other:
        return False
    if one == other:
        return True
    if ":" in one and not one.startswith(("/", ".")):
        return False  # HOST:PORT, compared as written
    return os.path.realpath(one) == os.path.realpath(other)
