"""The command line answers --version and --help from the start."""

import subprocess
import sys

from qmpshell import __version__


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "qmpshell", *args],
                          capture_output=True, text=True, timeout=60)


def test_version() -> None:
    r = run("--version")
    assert r.returncode == 0
    assert r.stdout.strip() == f"qmpshell {__version__}"


def test_help_lists_the_contract_options() -> None:
    r = run("--help")
    assert r.returncode == 0
    for opt in ("--command", "--file", "--exit-on-error", "--dry-run", "--pretty",
                "--compact", "--logfile", "--hmp", "--skip-negotiation", "--record",
                "--spawn", "--schema", "--color", "--timeout", "--version"):
        assert opt in r.stdout


def test_bad_usage_exits_2() -> None:
    r = run("--color", "purple")
    assert r.returncode == 2
    assert "invalid choice" in r.stderr


def test_a_vm_given_twice_is_refused_at_once(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Before connecting: a second connection to one QEMU monitor would wait
    for a greeting that never comes (it serves one client at a time)."""
    sock = tmp_path / "vm.sock"
    r = run(str(sock), str(tmp_path / "." / "vm.sock"), "-c", "query-status")
    assert r.returncode == 2
    assert r.stderr == (f"qmpshell: error: {tmp_path / '.' / 'vm.sock'} is given twice: "
                        "QEMU's monitor serves one client at a time\n")
    r = run(f"a={sock}", f"a={tmp_path / 'other.sock'}", "-c", "query-status")
    assert r.returncode == 2
    assert r.stderr == "qmpshell: error: the name 'a' is given to two addresses\n"
