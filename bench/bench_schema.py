"""Time to a schema-aware shell: cold (introspect + build) vs warm (disk cache).

Starts a real QEMU (``-machine none``) with a private QMP socket, connects with
qemu.qmp, and times, after connecting:

- baseline: the raw ``query-qmp-schema`` round trip alone (QEMU's reply,
  the socket and JSON decoding), which every cold start pays;
- cold: ``load_live_schema`` with an empty cache directory (round trip, model
  build, merge with the bundled docs, cache write);
- warm: ``load_live_schema`` with the cache filled by a previous start (one
  ``query-target``, cache read, merge).

Run: ``.venv/bin/python bench/bench_schema.py [--rounds N]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from qemu.qmp import QMPClient
from qemu.qmp.qmp_client import ExecuteError

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from helpers.qemu_process import QemuProcess, have_qemu, qemu_missing_message  # noqa: E402

from qmpshell.schema.introspect import load_live_schema  # noqa: E402
from qmpshell.schema.model import Schema  # noqa: E402
from qmpshell.schema.table import load_bundled_schema  # noqa: E402


def executor(client: QMPClient) -> Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]:
    """The ``execute`` shape introspect expects, over a bare qemu.qmp client."""

    async def execute(request: dict[str, Any]) -> dict[str, Any]:
        try:
            value = await client.execute(request["execute"], request.get("arguments"))
        except ExecuteError as err:
            return {"error": dict(err.received["error"])}  # type: ignore[call-overload]
        return {"return": value}

    return execute


async def timed(actions: dict[str, Callable[[], Awaitable[object]]],
                rounds: int) -> dict[str, list[float]]:
    """Each action once per round, in a rotating order, so that a busy machine
    slows all of them alike rather than whichever ran during the busy spell."""
    times: dict[str, list[float]] = {name: [] for name in actions}
    names = list(actions)
    for i in range(rounds):
        for name in names[i % len(names):] + names[:i % len(names)]:
            start = time.perf_counter()
            await actions[name]()
            times[name].append(time.perf_counter() - start)
    return times


async def measure(socket_path: Path, workdir: Path, rounds: int) -> dict[str, list[float]]:
    client = QMPClient("bench")
    await client.connect(str(socket_path))
    try:
        execute = executor(client)
        greeting = dict(client.greeting._raw) if client.greeting else None
        bundled: Schema = load_bundled_schema()
        warm_dir = workdir / "warm-cache"
        cold_dirs = iter(workdir / f"cold-cache-{i}" for i in range(rounds + 1))

        async def baseline() -> object:
            return await execute({"execute": "query-qmp-schema"})

        async def cold() -> object:
            return await load_live_schema(execute, greeting, bundled, next(cold_dirs))

        async def warm() -> object:
            return await load_live_schema(execute, greeting, bundled, warm_dir)

        await baseline()  # QEMU builds its reply lazily: do not charge that to one side
        await load_live_schema(execute, greeting, bundled, warm_dir)
        return await timed({"baseline": baseline, "cold": cold, "warm": warm}, rounds)
    finally:
        await client.disconnect()


def report(results: dict[str, list[float]]) -> str:
    median = {name: statistics.median(times) for name, times in results.items()}
    lines = [f"{'':10}{'median':>10}{'min':>10}{'max':>10}   (ms, {len(results['cold'])} rounds)"]
    for name, times in results.items():
        lines.append(f"{name:10}{median[name] * 1e3:10.2f}{min(times) * 1e3:10.2f}"
                     f"{max(times) * 1e3:10.2f}")
    lines.append(f"cold / baseline: {median['cold'] / median['baseline']:.2f}x")
    lines.append(f"warm / baseline: {median['warm'] / median['baseline']:.2f}x")
    lines.append(f"cold / warm:     {median['cold'] / median['warm']:.1f}x faster when warm")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--json", action="store_true", help="also print the summary as JSON")
    args = parser.parse_args(argv)
    if not have_qemu():
        print(qemu_missing_message(), file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="bench-schema-") as tmp:
        workdir = Path(tmp)
        qemu = QemuProcess(workdir).start()
        try:
            results = asyncio.run(measure(qemu.socket_path, workdir, args.rounds))
        finally:
            qemu.stop()
    print("time to a schema-aware state after connecting (live QEMU, -machine none)")
    print(report(results))
    if args.json:
        median = {name: statistics.median(times) * 1000 for name, times in results.items()}
        print(json.dumps({"warm ms": median["warm"], "cold ms": median["cold"],
                          "warm / baseline": median["warm"] / median["baseline"],
                          "cold / baseline": median["cold"] / median["baseline"]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
