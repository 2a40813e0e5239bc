"""Start-up: time to the first prompt in a real pty, and scripted start-up,
against a real QEMU, next to QEMU's ``qmp-shell`` in the same run.

For each round, in turn (so machine load hits all alike):

- ``qmpshell SOCK`` (the installed entry point) and ``python -m
  qemu.qmp.qmp_shell SOCK`` in a pty: the time until ``(QEMU)`` shows
  ("prompt"), until ``query-kv`` typed at once shows ("ready": for
  qmpshell, shown by the prompt painted at connection time, which reads the
  keys until prompt_toolkit takes over), and until the Tab and Enter typed
  right after it have completed it and run ``query-kvm`` ("completes": the
  line editor at work, for qmpshell prompt_toolkit, which got the keys read
  before it);
- scripted: ``qmpshell SOCK -c query-status`` against ``qmp-shell SOCK``
  reading the same line from a file, and the raw client doing the same
  (``bench/raw_client.py SOCK 1``, the interpreter and a socket).

Each interactive shell is ended with Ctrl-U, Ctrl-D.  Prints medians and
bests, and the ratios to qmp-shell.  Run:
``.venv/bin/python bench/bench_startup.py [--rounds N] [--json]``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pexpect

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from helpers.qemu_process import QemuProcess, have_qemu, qemu_missing_message  # noqa: E402

BIN = Path(sys.executable).parent
TYPED = "query-kv"
"""Typed right after the prompt shows, then a Tab, which completes it to
query-kvm, and Enter, which runs it."""
ITS_REPLY = '"present"'
CPR_REQUEST, CPR_ANSWER = "\x1b\\[6n", "\x1b[1;1R"
"""prompt_toolkit asks where the cursor is; a terminal answers, a pty does not."""


def time_to_prompt(argv: list[str], env: dict[str, str]) -> tuple[float, float, float]:
    """Seconds from spawning ``argv`` to its ``(QEMU)`` prompt, to the echo
    of text typed as soon as the prompt showed, and to the reply of the
    command a Tab and Enter typed after it completed and ran."""
    start = time.perf_counter()
    child = pexpect.spawn(argv[0], argv[1:], env=env, dimensions=(30, 120),
                          encoding="utf-8", timeout=30)
    child.delaybeforesend = None
    try:
        child.expect(r"\(QEMU\)")
        shown = time.perf_counter() - start
        child.send(TYPED)
        child.expect(TYPED)
        ready = time.perf_counter() - start
        child.send("\t\r")
        while child.expect([ITS_REPLY, CPR_REQUEST]) == 1:
            child.send(CPR_ANSWER)  # as a terminal does, at once
        completes = time.perf_counter() - start
        child.expect(r"\(QEMU\)")
        child.sendcontrol("u")
        child.sendcontrol("d")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    return shown, ready, completes


def time_to_run(argv: list[str], env: dict[str, str], stdin: Path | None = None) -> float:
    """Seconds for a scripted run of ``argv`` (it must succeed)."""
    start = time.perf_counter()
    with open(stdin or os.devnull, "rb") as source:
        r = subprocess.run(argv, stdin=source, stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, env=env, check=False)
    took = time.perf_counter() - start
    if r.returncode != 0:
        raise RuntimeError(f"{argv[0]} failed ({r.returncode}): {r.stderr.decode()[-300:]}")
    return took


def isolated_env(home: Path) -> dict[str, str]:
    """A private home (config, history, schema cache) and compiled bytecode
    kept there, as an installed package keeps it."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("XDG_", "QMPSHELL")) and k != "PYTHONDONTWRITEBYTECODE"}
    env.update(HOME=str(home), XDG_STATE_HOME=str(home / "state"),
               XDG_CONFIG_HOME=str(home / "config"), XDG_CACHE_HOME=str(home / "cache"),
               PYTHONPYCACHEPREFIX=str(home / "pycache"), TERM="xterm")
    return env


def measure(rounds: int) -> dict[str, list[float]]:
    names = ("qmpshell prompt", "qmpshell ready", "qmpshell completes", "qmp-shell prompt",
             "qmp-shell ready", "qmp-shell completes", "qmpshell -c", "qmp-shell -c",
             "raw client -c")
    results: dict[str, list[float]] = {name: [] for name in names}
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        home.mkdir()
        env = isolated_env(home)
        one = Path(tmp) / "one.qmp"
        one.write_text("query-status\n")
        qemu = QemuProcess(Path(tmp)).start()
        try:
            sock = str(qemu.socket_path)
            ours = [str(BIN / "qmpshell"), sock]
            theirs = [sys.executable, "-m", "qemu.qmp.qmp_shell", sock]
            raw = [sys.executable, str(ROOT / "bench" / "raw_client.py"), sock, "1"]
            time_to_prompt(ours, env)  # warm caches (files, bytecode, the schema cache)
            time_to_prompt(theirs, env)
            time_to_run(raw, env)
            for _ in range(rounds):
                for who, argv in (("qmpshell", ours), ("qmp-shell", theirs)):
                    shown, ready, completes = time_to_prompt(argv, env)
                    results[f"{who} prompt"].append(shown)
                    results[f"{who} ready"].append(ready)
                    results[f"{who} completes"].append(completes)
                results["qmpshell -c"].append(time_to_run([*ours, "-c", "query-status"], env))
                results["qmp-shell -c"].append(time_to_run(theirs, env, stdin=one))
                results["raw client -c"].append(time_to_run(raw, env))
        finally:
            qemu.stop()
    return results


def summary(results: dict[str, list[float]]) -> dict[str, float]:
    """Medians in ms and ratios to qmp-shell, for run_all."""
    med = {name: statistics.median(times) * 1000 for name, times in results.items()}
    out = {f"{name} ms": value for name, value in med.items()}
    out["prompt ratio"] = med["qmpshell prompt"] / med["qmp-shell prompt"]
    out["ready ratio"] = med["qmpshell ready"] / med["qmp-shell ready"]
    out["completes ratio"] = med["qmpshell completes"] / med["qmp-shell completes"]
    out["scripted ratio"] = med["qmpshell -c"] / med["qmp-shell -c"]
    out["scripted vs raw"] = med["qmpshell -c"] / med["raw client -c"]
    for what, ours, theirs in (("prompt", "qmpshell prompt", "qmp-shell prompt"),
                               ("scripted", "qmpshell -c", "qmp-shell -c")):
        out[f"{what} ratio per round"] = per_round(results[ours], results[theirs])
    return out


def per_round(ours: list[float], theirs: list[float]) -> float:
    """The median of each round's own ratio: both ran back to back in that
    round, under the same load, so a busy spell moves both."""
    return statistics.median(a / b for a, b in zip(ours, theirs, strict=True))


def report(rounds: int, results: dict[str, list[float]]) -> None:
    print(f"start-up, {rounds} rounds each, -machine none QEMU")
    print(f"{'':18}{'median ms':>12}{'best ms':>10}")
    for name, times in results.items():
        print(f"{name:18}{statistics.median(times) * 1000:12.0f}{min(times) * 1000:10.0f}")
    s = summary(results)
    print(f"qmpshell/qmp-shell (median): prompt {s['prompt ratio']:.2f}x, "
          f"ready {s['ready ratio']:.2f}x, completes {s['completes ratio']:.2f}x, "
          f"scripted -c {s['scripted ratio']:.2f}x")
    print(f"  the same, median of each round's ratio: prompt "
          f"{s['prompt ratio per round']:.2f}x, scripted -c {s['scripted ratio per round']:.2f}x")
    print(f"qmpshell -c / raw client -c (median): {s['scripted vs raw']:.2f}x")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--json", action="store_true", help="also print the summary as JSON")
    args = parser.parse_args(argv)
    if not have_qemu():
        print(qemu_missing_message())
        return 1
    results = measure(args.rounds)
    report(args.rounds, results)
    if args.json:
        print(json.dumps(summary(results)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
