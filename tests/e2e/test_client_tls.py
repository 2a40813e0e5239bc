"""TLS with --tls-ca/--tls-cert/--tls-key: certificates checked both ways.

The full exchange runs against the fake server: QEMU 7.2's TLS monitor
leaves each request unprocessed until the next one arrives (it reads a
record's first bytes and waits for the socket, while the rest sits decrypted
in GnuTLS), so no request/reply client can talk to it.  The real QEMU still
checks our side of the handshake."""

from __future__ import annotations

import shutil
import ssl
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers.cli import messages, qmpshell
from helpers.fake_server import FakeQMP
from helpers.qemu_process import QemuProcess, free_port

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl")


def openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_pki(d: Path) -> None:
    """A CA, a server certificate for 127.0.0.1 and a client certificate."""
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca-key.pem",
            "-out", "ca-cert.pem", "-days", "2", "-subj", "/CN=qmpshell test CA", cwd=d)
    for name, usage, extra in (("server", "serverAuth", "subjectAltName=IP:127.0.0.1\n"),
                               ("client", "clientAuth", "")):
        (d / f"{name}.ext").write_text(
            f"{extra}extendedKeyUsage={usage}\nkeyUsage=digitalSignature,keyEncipherment\n")
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}-key.pem",
                "-out", f"{name}.csr", "-subj", f"/CN={name}", cwd=d)
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca-cert.pem", "-CAkey",
                "ca-key.pem", "-CAcreateserial", "-out", f"{name}-cert.pem", "-days", "2",
                "-extfile", f"{name}.ext", cwd=d)


@pytest.fixture
def tls_qemu(tmp_path: Path) -> Iterator[tuple[QemuProcess, int, Path]]:
    from conftest import require_qemu

    require_qemu()
    pki = tmp_path / "pki"
    pki.mkdir()
    make_pki(pki)
    port = free_port()
    proc = QemuProcess(tmp_path, args=[
        "-object", f"tls-creds-x509,id=tls0,dir={pki},endpoint=server,verify-peer=on",
        "-chardev", f"socket,id=tlsmon,host=127.0.0.1,port={port},server=on,wait=off,"
                    "tls-creds=tls0",
        "-mon", "chardev=tlsmon,mode=control"])
    try:
        proc.start()
        yield proc, port, pki
    finally:
        proc.stop()


def server_context(pki: Path) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(pki / "server-cert.pem", pki / "server-key.pem")
    ctx.load_verify_locations(pki / "ca-cert.pem")
    ctx.verify_mode = ssl.CERT_REQUIRED
    return ctx


def tls_args(ca: Path, pki: Path) -> list[str]:
    return ["--tls-ca", str(ca / "ca-cert.pem"), "--tls-cert", str(pki / "client-cert.pem"),
            "--tls-key", str(pki / "client-key.pem")]


def test_tls_exchange_with_client_certificate(tmp_path: Path) -> None:
    make_pki(tmp_path)
    with FakeQMP(tmp_path, tcp=True, tls=server_context(tmp_path)) as server:
        r = qmpshell(server.address, *tls_args(tmp_path, tmp_path), "-c", "query-status")
    assert r.returncode == 0, r.stderr
    assert messages(r.stdout) == [{"return": {}}]
    sent = [m["execute"] for m in server.received]
    assert sent[0] == "qmp_capabilities" and sent[-1] == "query-status"


def test_tls_without_client_certificate_is_refused(tmp_path: Path) -> None:
    make_pki(tmp_path)
    with FakeQMP(tmp_path, tcp=True, tls=server_context(tmp_path)) as server:
        r = qmpshell(server.address, "--tls-ca", str(tmp_path / "ca-cert.pem"),
                     "--timeout", "5", "-c", "query-status")
    assert r.returncode == 3
    assert "Traceback" not in r.stderr


def test_qemu_certificate_from_an_unknown_ca_is_refused(
        tls_qemu: tuple[QemuProcess, int, Path], tmp_path: Path) -> None:
    _, port, pki = tls_qemu
    other = tmp_path / "other"
    other.mkdir()
    make_pki(other)
    deadline = time.monotonic() + 20
    while True:  # the TLS listener may come up just after the QMP socket the fixture awaits
        r = qmpshell(f"127.0.0.1:{port}", *tls_args(other, pki), "-c", "query-status")
        if "connection refused" not in r.stderr or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert r.returncode == 3
    assert "TLS handshake failed: CERTIFICATE_VERIFY_FAILED" in r.stderr
    assert "Traceback" not in r.stderr
