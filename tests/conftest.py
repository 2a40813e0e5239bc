"""Shared fixtures: real QEMU processes with private sockets, always torn down."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest
from hypothesis import settings

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tools/

from helpers.libvirt_daemon import LibvirtDaemon, libvirt_missing_message  # noqa: E402
from helpers.qemu_ga import QemuGA, have_qemu_ga, qemu_ga_missing_message  # noqa: E402
from helpers.qemu_process import (  # noqa: E402
    QemuProcess,
    have_qemu,
    make_scratch_image,
    qemu_missing_message,
    scratch_machine_args,
)

# Generated input: a quick run locally, the fuzzing at scale under CI
# (environment variable CI set): ten times the examples, no deadline.
settings.register_profile("default", max_examples=100)
settings.register_profile("ci", max_examples=1000, deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "default")

SPEC_PATH = (Path(__file__).resolve().parents[1] / "qmpshell" / "schema" / "data"
             / "qmp-commands.hx.blame.txt")
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def require_qemu() -> None:
    """Fail under CI, skip elsewhere, when QEMU is not installed."""
    if have_qemu():
        return
    if os.environ.get("CI"):
        pytest.fail(qemu_missing_message())
    pytest.skip(qemu_missing_message())


@pytest.fixture
def start_qemu(tmp_path: Path) -> Iterator[Callable[..., QemuProcess]]:
    """Start real QEMUs for one test, each in its own directory under the
    test's tmp_path; every one is stopped after the test, pass or fail.

    ``start_qemu(name="", scratch=False, tcp=False, args=())``: ``scratch``
    gives a q35/TCG machine with a 64 MiB qcow2 drive named 'scratch';
    ``tcp`` adds a second QMP monitor on a TCP port (``tcp_port``)."""
    require_qemu()
    started: list[QemuProcess] = []

    def start(name: str = "", *, scratch: bool = False, tcp: bool = False,
              args: Sequence[str] = ()) -> QemuProcess:
        workdir = tmp_path / name if name else tmp_path
        workdir.mkdir(parents=True, exist_ok=True)
        extra = list(args)
        if scratch:
            extra = scratch_machine_args(make_scratch_image(workdir / "scratch.qcow2")) + extra
        proc = QemuProcess(workdir, args=extra, tcp=tcp)
        started.append(proc)
        return proc.start()

    try:
        yield start
    finally:
        for proc in started:
            if proc.proc is not None and (code := proc.proc.poll()) is not None and code < 0:
                # Nothing here kills a QEMU: say who died of a signal, for the
                # test's report (a rare 'connection refused' had no other trace).
                print(f"note: QEMU pid {proc.proc.pid} in {proc.workdir} was killed "
                      f"by signal {-code} before the test ended", file=sys.stderr)
            proc.stop()


@pytest.fixture
def qemu_ga(tmp_path: Path) -> Iterator[QemuGA]:
    """A real qemu-ga, standalone on a private socket, every command that could
    touch this machine blocked; stopped after the test, pass or fail.  Fails
    under CI (CI set), skips elsewhere, when qemu-ga is not installed."""
    if not have_qemu_ga():
        if os.environ.get("CI"):
            pytest.fail(qemu_ga_missing_message())
        pytest.skip(qemu_ga_missing_message())
    agent = QemuGA(tmp_path / "qga")
    agent.workdir.mkdir()
    try:
        yield agent.start()
    finally:
        agent.stop()


@pytest.fixture
def qemu(start_qemu: Callable[..., QemuProcess]) -> QemuProcess:
    """A bare QEMU (-machine none) with a UNIX and a TCP QMP socket."""
    return start_qemu(tcp=True)


@pytest.fixture
def qemu_scratch(start_qemu: Callable[..., QemuProcess]) -> QemuProcess:
    """A q35/TCG QEMU with a 64 MiB qcow2 drive named 'scratch'."""
    return start_qemu(scratch=True)


def require_libvirt() -> None:
    """Fail under CI, skip elsewhere, when libvirt or libvirt-python is missing."""
    missing = libvirt_missing_message()
    if missing is None:
        return
    if os.environ.get("CI"):
        pytest.fail(missing)
    pytest.skip(missing)


@pytest.fixture
def libvirt_daemon() -> Iterator[LibvirtDaemon]:
    """A private session libvirtd of the test's own (helpers/libvirt_daemon.py
    says how it keeps off the host's libvirt); stopped after the test with
    every domain it started."""
    require_qemu()
    require_libvirt()
    daemon = LibvirtDaemon()
    try:
        yield daemon.start()
    finally:
        daemon.stop()


@pytest.fixture
def libvirt_domain(libvirt_daemon: LibvirtDaemon) -> str:
    """A running transient TCG domain (disk vda, node libvirt-1-format) on
    ``libvirt_daemon``; its name."""
    return libvirt_daemon.create_domain("qs-guest")


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """An empty home directory for a shell under test."""
    home = tmp_path / "home"
    home.mkdir()
    return home


def isolated_env(home: Path, *, answers_cpr: bool = False) -> dict[str, str]:
    """The environment for a shell under test: its own home, state, config
    and cache under ``home`` (never the user's), a plain xterm, no colour.

    A pexpect pty is not a terminal emulator: nothing answers prompt_toolkit's
    cursor position request, and on a busy machine its "terminal doesn't
    support CPR" warning lands in the middle of the prompt, so the request is
    turned off there.  A real terminal (tmux) answers it: ``answers_cpr``
    keeps it, and with it the bottom toolbar, which prompt_toolkit only
    draws when it knows the room below the cursor."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XDG_", "QMPSHELL"))}
    env.update(HOME=str(home), XDG_STATE_HOME=str(home / "state"),
               XDG_CONFIG_HOME=str(home / "config"), XDG_CACHE_HOME=str(home / "cache"),
               TERM="xterm", NO_COLOR="1")
    if not answers_cpr:
        env["PROMPT_TOOLKIT_NO_CPR"] = "1"
    return env


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test that starts a QEMU carries the ``qemu`` marker, whichever
    fixture got it there, so ``-m 'not qemu'`` leaves them out."""
    for item in items:
        if {"start_qemu", "libvirt_daemon"} & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.qemu)
