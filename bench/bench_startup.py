"""Time from start to the first prompt, in a real pty, against a real QEMU.

For each round, in turn (so machine load hits both alike):

- ``qmpshell SOCK`` (the installed entry point), until ``(QEMU)`` shows;
- ``python -m qemu.qmp.qmp_shell SOCK`` (QEMU's qmp-shell), until ``(QEMU)``.

Each is ended with Ctrl-D once its prompt is there.  Prints the median and
the best of N rounds and the ratio.  Run:
``.venv/bin/python bench/bench_startup.py [--rounds N]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import pexpect

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from qemu_process import QemuProcess, have_qemu, qemu_missing_message  # noqa: E402

BIN = Path(sys.executable).parent


def time_to_prompt(argv: list[str], env: dict[str, str]) -> float:
    """Seconds from spawning ``argv`` to its ``(QEMU)`` prompt."""
    start = time.perf_counter()
    child = pexpect.spawn(argv[0], argv[1:], env=env, dimensions=(30, 120),
                          encoding="utf-8", timeout=30)
    try:
        child.expect(r"\(QEMU\)")
        elapsed = time.perf_counter() - start
        child.sendcontrol("d")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    if not have_qemu():
        print(qemu_missing_message())
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        home.mkdir()
        env = {k: v for k, v in os.environ.items() if not k.startswith("XDG_")}
        env.update(HOME=str(home), XDG_STATE_HOME=str(home / "state"),
                   XDG_CONFIG_HOME=str(home / "config"), XDG_CACHE_HOME=str(home / "cache"),
                   TERM="xterm")
        qemu = QemuProcess(Path(tmp)).start()
        try:
            sock = str(qemu.socket_path)
            ours = [str(BIN / "qmpshell"), sock]
            theirs = [sys.executable, "-m", "qemu.qmp.qmp_shell", sock]
            time_to_prompt(ours, env)  # warm caches (files, and qmpshell's schema cache)
            time_to_prompt(theirs, env)
            a: list[float] = []
            b: list[float] = []
            for _ in range(args.rounds):
                a.append(time_to_prompt(ours, env))
                b.append(time_to_prompt(theirs, env))
        finally:
            qemu.stop()
    print(f"time to first prompt, {args.rounds} rounds each, -machine none QEMU")
    print(f"{'':12}{'median ms':>12}{'best ms':>10}")
    print(f"{'qmpshell':12}{statistics.median(a) * 1000:12.0f}{min(a) * 1000:10.0f}")
    print(f"{'qmp-shell':12}{statistics.median(b) * 1000:12.0f}{min(b) * 1000:10.0f}")
    print(f"ratio qmpshell/qmp-shell: median {statistics.median(a) / statistics.median(b):.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
