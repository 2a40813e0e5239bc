"""TLS with --tls-ca/--tls-cert/--tls-key against a real QEMU 7.2 monitor
(``tls-creds-x509`` with ``verify-peer=on``, certificates made with openssl).

QEMU before 8.0 hands a TLS reply to the client only after the next record
arrives; the shell follows each request with a record holding only a
newline, so every reply comes back at once: a command, a hundred lines, the
prompt.  Failures (another CA, no client certificate, expired certificates)
are each one line naming the cause, exit status 3: against the fake TLS
server, whose alerts say exactly what it refused, and against QEMU, which
refuses a client certificate by hanging up."""

from __future__ import annotations

import shutil
import ssl
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import isolated_env
from helpers.cli import messages, qmpshell
from helpers.fake_server import FakeQMP
from helpers.pki import client_args, make_pki, sign
from helpers.qemu_process import QemuProcess, free_port, tcp_listening

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl")

RUNNING = {"return": {"status": "running", "singlestep": False, "running": True}}

QemuTLS = Callable[[Path], str]


@pytest.fixture
def tls_qemu(start_qemu: Callable[..., QemuProcess]) -> QemuTLS:
    """``tls_qemu(pki)`` starts a QEMU whose second monitor is TLS on
    127.0.0.1 with the certificates in ``pki`` and wants a client
    certificate; it returns HOST:PORT once that monitor listens."""
    def start(pki: Path) -> str:
        port = free_port()
        qemu = start_qemu(pki.name, args=[
            "-object", f"tls-creds-x509,id=tls0,dir={pki},endpoint=server,verify-peer=on",
            "-chardev", f"socket,id=mon0,host=127.0.0.1,port={port},server=on,wait=off,"
                        "tls-creds=tls0",
            "-mon", "chardev=mon0,mode=control"])
        assert qemu.proc is not None
        deadline = time.monotonic() + 20
        # the TLS listener may come up after the QMP socket
        while not tcp_listening(port, qemu.proc.pid):
            assert time.monotonic() < deadline, "QEMU's TLS monitor did not listen"
            time.sleep(0.02)
        return f"127.0.0.1:{port}"
    return start


# -- QEMU 7.2 answers every request at once ----------------------------------------
def test_a_command_over_tls(tls_qemu: QemuTLS, tmp_path: Path) -> None:
    pki = make_pki(tmp_path / "pki")
    address = tls_qemu(pki)
    r = qmpshell(address, *client_args(pki, pki), "--timeout", "10", "-c", "query-status")
    assert r.returncode == 0, r.stderr
    assert messages(r.stdout) == [RUNNING]


def test_a_hundred_lines_each_answered_before_the_next_is_sent(tls_qemu: QemuTLS,
                                                               tmp_path: Path) -> None:
    pki = make_pki(tmp_path / "pki")
    address = tls_qemu(pki)
    session = tmp_path / "hundred.qmp"
    session.write_text("".join(f"{('query-status', 'query-name')[i % 2]}\n" for i in range(100)))
    r = qmpshell(address, *client_args(pki, pki), "--timeout", "10", "-e", "-f", str(session))
    assert r.returncode == 0, r.stderr
    assert messages(r.stdout) == [(RUNNING, {"return": {}})[i % 2] for i in range(100)]


def test_the_prompt_over_tls(tls_qemu: QemuTLS, tmp_path: Path, home: Path) -> None:
    """The prompt's driver (asyncio) gets every reply at once too."""
    pexpect = pytest.importorskip("pexpect")
    pki = make_pki(tmp_path / "pki")
    address = tls_qemu(pki)
    child = pexpect.spawn(sys.executable, ["-m", "qmpshell", "--compact", "--timeout", "10",
                                           address, *client_args(pki, pki)],
                          env=isolated_env(home), encoding="utf-8", timeout=20,
                          dimensions=(40, 200))
    try:
        child.expect(r"\(QEMU\)")
        for _ in range(3):
            child.send("query-status\r")
            child.expect_exact('{"return": {"status": "running", "singlestep": false, '
                               '"running": true}}')
            child.expect(r"\(QEMU\)")
        child.sendcontrol("d")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)


# -- failures: one line naming the cause, exit 3 -------------------------------------
def test_the_fake_server_with_good_certificates(pkis: dict[str, Path], tmp_path: Path) -> None:
    pki = pkis["good"]
    with FakeQMP(tmp_path, tcp=True, tls=server_context_from(pki, pki)) as server:
        r = qmpshell(server.address, *client_args(pki, pki), "-c", "query-status")
    assert r.returncode == 0, r.stderr
    assert messages(r.stdout) == [{"return": {}}]
    sent = [m["execute"] for m in server.received]
    assert sent[0] == "qmp_capabilities" and sent[-1] == "query-status"


FAILURES = {
    "server signed by another CA": (
        "other", "good", "good",
        "TLS handshake failed: the server's certificate is not signed by the --tls-ca CA "
        "(self-signed certificate in certificate chain)"),
    "no client certificate": (
        "good", "good", None,
        "TLS handshake failed: the server wants a client certificate: give --tls-cert "
        "and --tls-key"),
    "server certificate expired": (
        "good", "server-expired", "server-expired",
        "TLS handshake failed: the server's certificate has expired "
        "(certificate has expired)"),
    "client certificate expired": (
        "good", "good", "client-expired",
        "TLS handshake failed: the server refused our certificate: it has expired"),
    "client certificate of another CA": (
        "good", "good", "other",
        "TLS handshake failed: the server refused our certificate: not signed by a CA "
        "it trusts"),
}


@pytest.fixture(scope="module")
def pkis(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Certificates for every failure, made once: 'good', 'other' (another
    CA), and the good CA's with an expired server or client certificate."""
    root = tmp_path_factory.mktemp("pkis")
    good = make_pki(root / "good")
    dirs = {"good": good, "other": make_pki(root / "other")}
    for name, expired in (("server-expired", "server"), ("client-expired", "client")):
        dirs[name] = root / name
        make_expired(good, dirs[name], expired)
    return dirs


@pytest.mark.parametrize("case", FAILURES)
def test_tls_failures_name_their_cause(pkis: dict[str, Path], tmp_path: Path,
                                       case: str) -> None:
    ca_of, server_of, client_of, message = FAILURES[case]
    dirs, good = pkis, pkis["good"]
    server_pki = dirs[server_of]
    with FakeQMP(tmp_path, tcp=True, tls=server_context_from(server_pki, good)) as server:
        args = ["--tls-ca", str(dirs[ca_of] / "ca-cert.pem")]
        if client_of is not None:
            client = dirs[client_of]
            args += ["--tls-cert", str(client / "client-cert.pem"),
                     "--tls-key", str(client / "client-key.pem")]
        r = qmpshell(server.address, *args, "--timeout", "5", "-c", "query-status")
    assert r.returncode == 3
    assert r.stdout == ""
    assert r.stderr == f"qmpshell: error: {server.address}: {message}\n"


def make_expired(ca_dir: Path, into: Path, which: str) -> None:
    """``into`` gets the CA of ``ca_dir`` and both certificates, ``which``
    one of them expired."""
    into.mkdir()
    for f in ("ca-cert.pem", "ca-key.pem", "server-cert.pem", "server-key.pem",
              "client-cert.pem", "client-key.pem"):
        (into / f).write_bytes((ca_dir / f).read_bytes())
    sign(into, which, expired=True)


def server_context_from(pki: Path, trusted: Path) -> ssl.SSLContext:
    """The fake server with ``pki``'s certificate, trusting clients of ``trusted``'s CA."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(pki / "server-cert.pem", pki / "server-key.pem")
    ctx.load_verify_locations(trusted / "ca-cert.pem")
    ctx.verify_mode = ssl.CERT_REQUIRED
    return ctx


def test_qemu_certificate_from_an_unknown_ca_is_refused(tls_qemu: QemuTLS,
                                                        tmp_path: Path) -> None:
    pki = make_pki(tmp_path / "pki")
    other = make_pki(tmp_path / "other")
    address = tls_qemu(pki)
    r = qmpshell(address, *client_args(other, pki), "-c", "query-status")
    assert r.returncode == 3
    assert r.stderr.startswith(f"qmpshell: error: {address}: TLS handshake failed: the "
                               "server's certificate is not signed by the --tls-ca CA (")
    assert len(r.stderr.splitlines()) == 1


def test_qemu_refusing_our_certificate_is_said_so(tls_qemu: QemuTLS, tmp_path: Path) -> None:
    pki = make_pki(tmp_path / "pki")
    address = tls_qemu(pki)
    r = qmpshell(address, *client_args(pki), "--timeout", "10", "-c", "query-status")
    assert r.returncode == 3
    assert r.stderr == (
        f"qmpshell: error: {address}: the server closed the connection before greeting; "
        "QEMU does this when it refuses the client certificate (none, expired, or not "
        "signed by a CA it trusts): check --tls-cert and --tls-key\n")
