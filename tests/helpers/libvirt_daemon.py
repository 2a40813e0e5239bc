"""A private libvirt daemon and a small TCG domain for the tests, always torn down.

Which daemon: a *session* ``libvirtd`` (the one ``qemu:///session`` starts
for an ordinary user), run by hand with HOME and every XDG directory in a
fresh temporary directory, so that its configuration, state, logs, sockets
and the domains' QEMU processes all live there and nothing of the host's
libvirt (``/etc/libvirt``, ``/run/libvirt``, a system daemon) is read or
touched.  Clients reach it through its own socket:
``qemu+unix:///session?socket=DIR/run/libvirt/libvirt-sock``.

A daemon started by root is a *system* daemon whatever its environment says,
so under root the daemon runs as the unprivileged ``nobody`` user (its QEMUs
too) and the directory is handed to that user; the tests, as root, still
reach its socket.  ``qemu.conf`` sets ``stdio_handler = "file"`` so that no
``virtlogd`` is spawned.  The temporary directory sits directly under /tmp:
libvirt puts the monitor sockets below it, and a UNIX socket's path is
limited to 107 bytes.

:meth:`LibvirtDaemon.stop` destroys the domains through the daemon, then
stops the daemon and kills any QEMU it left behind (by the pid files libvirt
writes), so a test that stops the daemon under a running domain leaves
nothing running either.

The domain: ``type='qemu'`` (TCG: no /dev/kvm needed), 64 MiB, no NIC, no
graphics, no USB, no balloon, one 16 MiB qcow2 disk ``vda`` on virtio whose
format node libvirt names ``libvirt-1-format``; it starts in about a second.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from helpers.processes import stop_group

LIBVIRTD = shutil.which("libvirtd", path="/usr/sbin:/usr/local/sbin:" + os.environ["PATH"])
VIRSH = shutil.which("virsh")
UNPRIVILEGED = 65534  # nobody / nogroup: root's daemon runs as this user

DOMAIN_XML = """<domain type='qemu'>
  <name>{name}</name>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <devices>
    <emulator>{emulator}</emulator>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='{disk}'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <controller type='usb' model='none'/>
    <memballoon model='none'/>{channels}
  </devices>
</domain>
"""


def libvirt_missing_message() -> str | None:
    """Why the libvirt tests cannot run here, or None when they can."""
    missing = [name for name, found in (("libvirtd", LIBVIRTD), ("virsh", VIRSH),
                                        ("qemu-system-x86_64", shutil.which("qemu-system-x86_64")),
                                        ("qemu-img", shutil.which("qemu-img"))) if not found]
    try:
        import libvirt  # noqa: F401
    except ImportError:
        missing.append("the libvirt-python module")
    if not missing:
        return None
    return (f"libvirt tests need {', '.join(missing)}: apt-get install libvirt-daemon "
            "libvirt-daemon-driver-qemu libvirt-clients libvirt-dev pkg-config, then "
            "pip install 'qmpshell[libvirt]' (make test does both)")


@dataclass
class LibvirtDaemon:
    """A running private session libvirtd; ``uri`` reaches it."""

    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="qs-lv-",
                                                                     dir="/tmp")))
    proc: subprocess.Popen[bytes] | None = None
    domains: list[str] = field(default_factory=list)

    @property
    def socket_path(self) -> Path:
        return self.root / "run" / "libvirt" / "libvirt-sock"

    @property
    def uri(self) -> str:
        return f"qemu+unix:///session?socket={self.socket_path}"

    @property
    def log_path(self) -> Path:
        return self.root / "libvirtd.log"

    def _as_user(self) -> dict[str, object]:
        """Popen arguments that drop root (see the module doc)."""
        if os.geteuid() != 0:
            return {}
        return {"user": UNPRIVILEGED, "group": UNPRIVILEGED, "extra_groups": []}

    def _own(self, path: Path) -> None:
        if os.geteuid() == 0:
            os.chown(path, UNPRIVILEGED, UNPRIVILEGED)

    def _env(self) -> dict[str, str]:
        return {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": str(self.root),
                "XDG_RUNTIME_DIR": str(self.root / "run"),
                "XDG_CONFIG_HOME": str(self.root / "config"),
                "XDG_CACHE_HOME": str(self.root / "cache"),
                "XDG_DATA_HOME": str(self.root / "data"),
                "XDG_STATE_HOME": str(self.root / "state"), "LC_ALL": "C"}

    def start(self, timeout: float = 30.0) -> LibvirtDaemon:
        assert LIBVIRTD is not None
        self._own(self.root)
        for sub in ("run", "config", "config/libvirt", "cache", "data", "state", "images"):
            (self.root / sub).mkdir(mode=0o700, exist_ok=True)
            self._own(self.root / sub)
        qemu_conf = self.root / "config" / "libvirt" / "qemu.conf"
        qemu_conf.write_text('stdio_handler = "file"\n')
        self._own(qemu_conf)
        with open(self.log_path, "wb") as log:
            # --timeout: a daemon this fixture failed to stop exits by itself
            # once it has no client and no domain.
            self.proc = subprocess.Popen(  # type: ignore[call-overload]
                [LIBVIRTD, "--timeout", "600"], cwd=self.root, env=self._env(),
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True, **self._as_user())
        deadline = time.monotonic() + timeout
        while not _accepts(self.socket_path):
            if self.proc.poll() is not None:
                raise RuntimeError(f"libvirtd exited with {self.proc.returncode}: "
                                   + self.log_path.read_text(errors="replace"))
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("libvirtd did not open its socket in time")
            time.sleep(0.05)
        return self

    def virsh(self, *args: str, check: bool = True) -> str:
        """Run ``virsh -c URI ARGS``; its standard output."""
        assert VIRSH is not None
        done = subprocess.run([VIRSH, "-q", "-c", self.uri, *args], capture_output=True,
                              text=True, timeout=60, stdin=subprocess.DEVNULL)
        if check and done.returncode != 0:
            raise RuntimeError(f"virsh {' '.join(args)}: {done.stderr.strip()}")
        return done.stdout

    def create_domain(self, name: str = "qs-guest", disk_size: str = "16M", *,
                      agent_channel: bool = False) -> str:
        """Start a transient TCG domain (see the module doc); its name.
        ``agent_channel`` gives it the virtio-serial port a guest agent would
        listen on (the guest runs no OS, so no agent ever answers there)."""
        disk = self.root / "images" / f"{name}.qcow2"
        subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(disk), disk_size],
                       check=True)
        self._own(disk)
        xml = self.root / f"{name}.xml"
        channels = ("\n    <channel type='unix'><target type='virtio' "
                    "name='org.qemu.guest_agent.0'/></channel>" if agent_channel else "")
        xml.write_text(DOMAIN_XML.format(name=name, disk=disk, channels=channels,
                                         emulator=shutil.which("qemu-system-x86_64")))
        self.domains.append(name)
        self.virsh("create", str(xml))
        return name

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop_daemon(self) -> None:
        """Stop the daemon alone (its domains' QEMUs keep running)."""
        if self.proc is None:
            return
        stop_group(self.proc, grace=15)
        self.proc = None

    def stop(self) -> None:
        """Destroy the domains, stop the daemon, kill what is left, remove the files."""
        if self.alive():
            for name in self.domains:
                self.virsh("destroy", name, check=False)
        self.stop_daemon()
        for pid_file in (self.root / "run" / "libvirt" / "qemu" / "run").glob("*.pid"):
            _kill_pid_file(pid_file, self.root)
        shutil.rmtree(self.root, ignore_errors=True)


def _accepts(path: Path) -> bool:
    with socket.socket(socket.AF_UNIX) as s:
        try:
            s.connect(str(path))
        except OSError:
            return False
    return True


def _kill_pid_file(pid_file: Path, root: Path) -> None:
    """Kill the QEMU a pid file names, if it is still this daemon's (a QEMU
    libvirt left): its command line names files under ``root``.  A stale pid
    file's number may belong to another process by now (pids wrap at 32768
    here, and a test run starts thousands): another test's QEMU, say."""
    try:
        pid = int(pid_file.read_text().strip())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, ValueError):
        return
    if b"qemu" not in cmdline or str(root).encode() not in cmdline:
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while _running(pid) and time.monotonic() < deadline:
        time.sleep(0.05)


def _running(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie awaiting its reaper."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"
