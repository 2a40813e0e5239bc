"""Certificates for TLS tests, made with the openssl command: a CA, a server
certificate for 127.0.0.1 and a client certificate, as QEMU's
``tls-creds-x509`` directory wants them (ca-cert.pem, server-cert.pem,
server-key.pem), plus expired ones on request."""

from __future__ import annotations

import subprocess
from pathlib import Path


def openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_pki(d: Path, *, expired: tuple[str, ...] = ()) -> Path:
    """Write the CA and both certificates into ``d``; those named in
    ``expired`` ('server', 'client') ended yesterday.  Returns ``d``."""
    d.mkdir(parents=True, exist_ok=True)
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca-key.pem",
            "-out", "ca-cert.pem", "-days", "2", "-subj", "/CN=qmpshell test CA", cwd=d)
    for name in ("server", "client"):
        sign(d, name, expired=name in expired)
    return d


def sign(d: Path, name: str, *, expired: bool = False) -> None:
    """A new key and certificate for ``name`` ('server' for 127.0.0.1, or
    'client') signed by the CA in ``d``; ``expired``: it ended yesterday."""
    usage, extra = {"server": ("serverAuth", "subjectAltName=IP:127.0.0.1\n"),
                    "client": ("clientAuth", "")}[name]
    (d / f"{name}.ext").write_text(
        f"{extra}extendedKeyUsage={usage}\nkeyUsage=digitalSignature,keyEncipherment\n")
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}-key.pem",
            "-out", f"{name}.csr", "-subj", f"/CN={name}", cwd=d)
    openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca-cert.pem", "-CAkey",
            "ca-key.pem", "-CAcreateserial", "-out", f"{name}-cert.pem",
            "-days", "-1" if expired else "2", "-extfile", f"{name}.ext", cwd=d)


def client_args(ca: Path, client: Path | None = None) -> list[str]:
    """--tls-ca from ``ca``'s directory, the client certificate and key from
    ``client``'s (none when ``client`` is None)."""
    args = ["--tls-ca", str(ca / "ca-cert.pem")]
    if client is not None:
        args += ["--tls-cert", str(client / "client-cert.pem"),
                 "--tls-key", str(client / "client-key.pem")]
    return args
