"""Replay throughput: N sequential ``query-status`` from a session file.

All against one real QEMU (``-machine none``) in the same run:

- raw loop: ``bench/raw_client.py``'s loop in this process, the socket limit
  (requests with ids, as qmpshell sends them; also shown without ids);
- raw process: the same client as a process, start-up included;
- qmpshell: ``qmpshell SOCK -f FILE --compact`` end to end (start-up, schema,
  parsing every line, rendering every reply);
- qmp-shell: QEMU's own ``qmp-shell SOCK < FILE``, when installed.

Prints each rate and qmpshell's ratio to the raw ones (target: >= 80% of the
raw process, start-up included) and the start-up cost (a one-line run).

Run: ``.venv/bin/python bench/bench_replay.py [-n N] [--rounds R]``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))
sys.path.insert(0, str(HERE))

import raw_client  # noqa: E402
from qemu_process import QemuProcess, have_qemu, qemu_missing_message  # noqa: E402

BIN = Path(sys.executable).parent


ENV = dict(os.environ)


def use_bytecode_cache(directory: Path) -> None:
    """Let the measured processes keep compiled bytecode (in ``directory``, not
    in the tree), as an installed package does, even where the environment
    sets PYTHONDONTWRITEBYTECODE."""
    ENV.pop("PYTHONDONTWRITEBYTECODE", None)
    ENV["PYTHONPYCACHEPREFIX"] = str(directory)


def wall(command: list[str], stdin: Path | None = None) -> float:
    """Seconds for ``command`` to run to completion (stdout discarded, must succeed)."""
    start = time.perf_counter()
    with open(stdin or os.devnull, "rb") as source:
        r = subprocess.run(command, stdin=source, stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, check=False, env=ENV)
    took = time.perf_counter() - start
    if r.returncode != 0:
        raise RuntimeError(f"{command[0]} failed ({r.returncode}): {r.stderr.decode()[-500:]}")
    return took


def qmpshell_command() -> list[str]:
    installed = BIN / "qmpshell"
    return [str(installed)] if installed.exists() else [sys.executable, "-m", "qmpshell"]


def qmp_shell_command() -> list[str] | None:
    installed = BIN / "qmp-shell"
    if installed.exists():
        return [str(installed)]
    found = shutil.which("qmp-shell")
    return [found] if found else None


def best(times: list[float]) -> float:
    return min(times)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("-n", type=int, default=5000, help="requests per run (default 5000)")
    p.add_argument("--rounds", type=int, default=3, help="runs of each, best kept (default 3)")
    args = p.parse_args(argv)
    if not have_qemu():
        print(qemu_missing_message(), file=sys.stderr)
        return 1
    n, rounds = args.n, args.rounds
    with tempfile.TemporaryDirectory(prefix="qmpshell-bench-") as tmp:
        work = Path(tmp)
        session = work / "session.qmp"
        session.write_text("query-status\n" * n)
        one = work / "one.qmp"
        one.write_text("query-status\n")
        use_bytecode_cache(work / "pycache")
        qemu = QemuProcess(work).start()
        sock = str(qemu.socket_path)
        try:
            results: dict[str, list[float]] = {k: [] for k in
                                               ("raw loop", "raw loop, no ids",
                                                "raw process", "qmpshell",
                                                "qmp-shell", "qmpshell start-up")}
            shell = qmpshell_command()
            theirs = qmp_shell_command()
            wall([*shell, sock, "-f", str(one)])  # warm-up: bytecode, page cache
            if theirs is not None:
                wall([*theirs, sock], stdin=one)
            for _ in range(rounds):
                results["raw loop"].append(raw_client.run(sock, n))
                results["raw loop, no ids"].append(raw_client.run(sock, n, ids=False))
                results["raw process"].append(
                    wall([sys.executable, str(HERE / "raw_client.py"), sock, str(n)]))
                results["qmpshell"].append(wall([*shell, sock, "-f", str(session), "--compact"]))
                results["qmpshell start-up"].append(
                    wall([*shell, sock, "-f", str(one), "--compact"]))
                if theirs is not None:
                    results["qmp-shell"].append(wall([*theirs, sock], stdin=session))
        finally:
            qemu.stop()
    report(n, rounds, results)
    return 0


def report(n: int, rounds: int, results: dict[str, list[float]]) -> None:
    print(f"replay of {n} x query-status, best of {rounds} runs")
    rates = {}
    for name in ("raw loop", "raw loop, no ids", "raw process", "qmpshell", "qmp-shell"):
        if results[name]:
            seconds = best(results[name])
            rates[name] = n / seconds
            spread = statistics.pstdev(results[name]) if len(results[name]) > 1 else 0.0
            print(f"  {name:<16} {seconds:8.3f} s  {rates[name]:9.0f} req/s  (sd {spread:.3f} s)")
        else:
            print(f"  {name:<16} not installed")
    startup = best(results["qmpshell start-up"])
    print(f"  qmpshell start-up (one line, connect included): {startup * 1000:.0f} ms")
    ours = rates["qmpshell"]
    print(f"  qmpshell / raw process: {ours / rates['raw process']:.0%}  (target >= 80%)")
    print(f"  qmpshell / raw loop:    {ours / rates['raw loop']:.0%}")
    steady = n / max(best(results["qmpshell"]) - startup, 1e-9)
    print(f"  qmpshell steady state (start-up taken out) / raw loop: "
          f"{steady / rates['raw loop']:.0%}")
    if "qmp-shell" in rates:
        print(f"  qmpshell / qmp-shell:   {ours / rates['qmp-shell']:.2f}x")


if __name__ == "__main__":
    raise SystemExit(main())
