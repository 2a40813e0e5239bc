"""Replay throughput: N sequential ``query-status`` from a session file.

All against one real QEMU (``-machine none``) in the same run, each round
running every contender once, in turn, so machine load hits them alike.
Every contender does the same work: connect, negotiate, send the N requests
as qmpshell sends them, and write each reply as one compact JSON line
without its id to a file, flushed per line.  The raw clients send each request after the
previous reply; qmpshell sends a file's next query before reading the
previous reply (see the README), so it is also timed without that:

- raw loop: ``bench/raw_client.py``'s blocking-socket loop in this process
  (the socket limit: no interpreter start-up, no parsing of any input);
- raw process: the same client as a process, interpreter start-up included;
- qmpshell: ``qmpshell SOCK -f FILE --compact`` end to end (start-up,
  schema, parsing every line, rendering every reply);
- qmpshell, in turn: the same with sending ahead switched off (each request
  after the previous reply, as the raw clients do);
- qmp-shell: QEMU's own ``qmp-shell SOCK < FILE``, when installed (it
  pretty-prints, so its output is not checked).

Also shown: the raw loop with an id in each request (what the id costs
QEMU), and qmpshell's start-up (a one-line file).  qmpshell's output is checked line
for line against the raw client's.  Prints each contender's best and median
run and the ratios of medians (a busy machine makes single runs vary); the
target is qmpshell >= 95% of the raw client process, >= 80% of the raw loop.

Run: ``.venv/bin/python bench/bench_replay.py [-n N] [--rounds R] [--json]``.
"""

from __future__ import annotations

import argparse
import json
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
from helpers.qemu_process import QemuProcess, have_qemu, qemu_missing_message  # noqa: E402

BIN = Path(sys.executable).parent

ENV = dict(os.environ)

RATES = ("raw loop", "raw loop, ids", "raw process", "qmpshell", "qmpshell, in turn",
         "qmp-shell")

IN_TURN = ("import sys; from qmpshell.wire.blocking import BlockingConnection; "
           "del BlockingConnection.send_next; from qmpshell.cli.main import main; "
           "sys.exit(main(sys.argv[1:]))")
"""qmpshell without sending ahead: the runner sends ahead only through a
connection that offers ``send_next``."""


def use_bytecode_cache(directory: Path) -> None:
    """Let the measured processes keep compiled bytecode (in ``directory``, not
    in the tree), as an installed package does, even where the environment
    sets PYTHONDONTWRITEBYTECODE."""
    ENV.pop("PYTHONDONTWRITEBYTECODE", None)
    ENV["PYTHONPYCACHEPREFIX"] = str(directory)


def wall(command: list[str], stdin: Path | None = None, stdout: Path | None = None) -> float:
    """Seconds for ``command`` to run to completion (it must succeed)."""
    start = time.perf_counter()
    with open(stdin or os.devnull, "rb") as source, \
            open(stdout or os.devnull, "wb") as sink:
        r = subprocess.run(command, stdin=source, stdout=sink,
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


def measure(n: int, rounds: int) -> dict[str, list[float]]:
    """Seconds per run of each contender, ``rounds`` runs each."""
    results: dict[str, list[float]] = {k: [] for k in (*RATES, "qmpshell start-up")}
    with tempfile.TemporaryDirectory(prefix="qmpshell-bench-") as tmp:
        work = Path(tmp)
        session = work / "session.qmp"
        session.write_text("query-status\n" * n)
        one = work / "one.qmp"
        one.write_text("query-status\n")
        ours_out, raw_out = work / "qmpshell.jsonl", work / "raw.jsonl"
        use_bytecode_cache(work / "pycache")
        qemu = QemuProcess(work).start()
        sock = str(qemu.socket_path)
        try:
            shell = qmpshell_command()
            theirs = qmp_shell_command()
            wall([*shell, sock, "-f", str(one)])  # warm-up: bytecode, page cache
            if theirs is not None:
                wall([*theirs, sock], stdin=one)
            with open(os.devnull, "w") as devnull:
                raw_client.run(sock, min(n, 500), out=devnull)
            for _ in range(rounds):
                with open(work / "loop.jsonl", "w") as out:
                    results["raw loop"].append(raw_client.run(sock, n, out=out))
                with open(work / "loop-ids.jsonl", "w") as out:
                    results["raw loop, ids"].append(raw_client.run(sock, n, ids=True, out=out))
                results["raw process"].append(
                    wall([sys.executable, str(HERE / "raw_client.py"), sock, str(n)],
                         stdout=raw_out))
                results["qmpshell"].append(
                    wall([*shell, sock, "-f", str(session), "--compact"], stdout=ours_out))
                check_same_output(ours_out, raw_out, n)
                results["qmpshell, in turn"].append(
                    wall([sys.executable, "-c", IN_TURN, sock, "-f", str(session), "--compact"],
                         stdout=ours_out))
                results["qmpshell start-up"].append(
                    wall([*shell, sock, "-f", str(one), "--compact"]))
                if theirs is not None:
                    results["qmp-shell"].append(wall([*theirs, sock], stdin=session))
                check_same_output(ours_out, raw_out, n)
        finally:
            qemu.stop()
    return results


def check_same_output(ours: Path, raw: Path, n: int) -> None:
    """qmpshell wrote what the raw client wrote: n identical JSON lines."""
    a, b = ours.read_text().splitlines(), raw.read_text().splitlines()
    if len(a) != n or a != b:
        raise RuntimeError(f"outputs differ: qmpshell {len(a)} lines, raw {len(b)} lines")


def summary(n: int, results: dict[str, list[float]]) -> dict[str, float]:
    """Median rates (req/s), start-up (s) and ratios, for run_all."""
    rates = {name: n / statistics.median(results[name]) for name in RATES if results[name]}
    ours = rates["qmpshell"]
    out = {f"rate {name}": rate for name, rate in rates.items()}
    out["qmpshell start-up s"] = statistics.median(results["qmpshell start-up"])
    out["qmpshell / raw loop"] = ours / rates["raw loop"]
    out["qmpshell / raw process"] = ours / rates["raw process"]
    out["qmpshell in turn / raw process"] = rates["qmpshell, in turn"] / rates["raw process"]
    if "qmp-shell" in rates:
        out["qmpshell / qmp-shell"] = ours / rates["qmp-shell"]
    return out


def report(n: int, rounds: int, results: dict[str, list[float]]) -> None:
    print(f"replay of {n} x query-status, {rounds} rounds: best and median run")
    for name in RATES:
        times = results[name]
        if times:
            median = statistics.median(times)
            print(f"  {name:<17} best {min(times):6.3f} s {n / min(times):6.0f} req/s"
                  f"   median {median:6.3f} s {n / median:6.0f} req/s")
        else:
            print(f"  {name:<17} not installed")
    s = summary(n, results)
    print(f"  qmpshell start-up (one line, connect included, median): "
          f"{s['qmpshell start-up s'] * 1000:.0f} ms")
    print("  ratios of the medians:")
    print(f"  qmpshell / raw loop:    {s['qmpshell / raw loop']:.0%}  (target >= 80%)")
    print(f"  qmpshell / raw process: {s['qmpshell / raw process']:.0%}  (target >= 95%)")
    print(f"  qmpshell in turn / raw process: {s['qmpshell in turn / raw process']:.0%}"
          "  (each request after the previous reply)")
    if "qmpshell / qmp-shell" in s:
        print(f"  qmpshell / qmp-shell:   {s['qmpshell / qmp-shell']:.2f}x")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("-n", type=int, default=5000, help="requests per run (default 5000)")
    p.add_argument("--rounds", type=int, default=5,
                   help="runs of each, the median kept (default 5)")
    p.add_argument("--json", action="store_true", help="also print the summary as JSON")
    args = p.parse_args(argv)
    if not have_qemu():
        print(qemu_missing_message(), file=sys.stderr)
        return 1
    results = measure(args.n, args.rounds)
    report(args.n, args.rounds, results)
    if args.json:
        print(json.dumps(summary(args.n, results)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
