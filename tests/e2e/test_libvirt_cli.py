"""qmpshell --domain against a real private libvirt daemon and TCG guest."""

from __future__ import annotations

from pathlib import Path

from helpers.cli import messages, qmpshell
from helpers.libvirt_daemon import LibvirtDaemon


def test_domain_query_status(libvirt_daemon: LibvirtDaemon, libvirt_domain: str) -> None:
    r = qmpshell("--connect", libvirt_daemon.uri, "--domain", libvirt_domain,
                 "-c", "query-status", "-c", "block_resize node-name=libvirt-1-format size=32M",
                 "-c", "query-named-block-nodes flat=true")
    assert r.returncode == 0, r.stderr
    status, resized, nodes = messages(r.stdout)
    assert status == {"return": {"status": "running", "singlestep": False, "running": True}}
    assert resized == {"return": {}}
    sizes = {n["node-name"]: n["image"]["virtual-size"] for n in nodes["return"]}
    assert sizes["libvirt-1-format"] == 32 * 2**20
    assert r.stderr == ""


def test_hmp_through_libvirt(libvirt_daemon: LibvirtDaemon, libvirt_domain: str) -> None:
    r = qmpshell("--connect", libvirt_daemon.uri, "--domain", libvirt_domain, "-H",
                 "-c", "info status")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "VM status: running"


def test_a_glob_of_domains_and_a_socket_together(libvirt_daemon: LibvirtDaemon,
                                                 start_qemu, tmp_path: Path) -> None:
    libvirt_daemon.create_domain("web-1")
    libvirt_daemon.create_domain("web-2")
    bare = start_qemu("bare")
    r = qmpshell(f"bare={bare.socket_path}", "--connect", libvirt_daemon.uri,
                 "--domain", "web-*", "-c", "@all query-name", "-c", ".vms")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert [m["vm"] for m in messages("\n".join(lines[:3]))] == ["bare", "web-1", "web-2"]
    kinds = {row.split()[-4]: row.split()[-3] for row in lines[4:]}
    assert kinds == {"bare": "qmp", "web-1": "libvirt", "web-2": "libvirt"}


def test_unknown_domain_is_one_line(libvirt_daemon: LibvirtDaemon) -> None:
    r = qmpshell("--connect", libvirt_daemon.uri, "--domain", "nope", "-c", "query-status")
    assert r.returncode == 3
    assert r.stderr.strip().endswith("no domain named 'nope'")
    assert len(r.stderr.splitlines()) == 1


def test_without_libvirt_python_domain_says_how_to_get_it(tmp_path: Path) -> None:
    (tmp_path / "libvirt.py").write_text("raise ImportError('no libvirt here')\n")
    r = qmpshell("--domain", "x", "-c", "query-status", env={"PYTHONPATH": str(tmp_path)})
    assert r.returncode == 2
    assert r.stderr.strip() == (
        "qmpshell: error: --domain needs libvirt-python: pip install 'qmpshell[libvirt]' "
        "(it builds against libvirt's headers: apt-get install libvirt-dev pkg-config gcc)")


def test_libvirt_is_imported_only_for_domain(start_qemu, tmp_path: Path) -> None:
    (tmp_path / "libvirt.py").write_text("raise SystemExit('libvirt imported')\n")
    q = start_qemu("q")
    for args in (["-n"], [str(q.socket_path)]):
        r = qmpshell(*args, "-c", "query-status", env={"PYTHONPATH": str(tmp_path)})
        assert r.returncode == 0, r.stderr
