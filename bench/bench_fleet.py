"""Several VMs: a fan-out against the same lines in turn, and libvirt against a socket.

1. Fan-out: 20 real QEMUs (``-machine none``), one runner holding all 20
   connections, in this process.  ``@all query-status`` (every VM at once)
   against ``@q1 query-status`` ... ``@q20 query-status`` (the same 20
   requests, one after another), rounds interleaved; output goes to a sink
   that keeps nothing.  Target: the fan-out at least 3x faster.  Beside
   them, in the same rounds, a bare client (no parsing, no rendering) sends
   the same requests over the same sockets all at once and one after
   another: the QEMUs' own work and the kernel's, which no client can
   shorten, and so the ceiling of the speed-up on this machine; and the CPU
   time the QEMUs and this process spend per fan-out line (the QEMUs'
   divided by the cores is the least a fan-out line can take).  Then the
   same lines over the prompt's driver (asyncio, its loop in a thread of its
   own), where each line in turn also crosses from a worker thread to the loop.
2. libvirt: ``query-status`` round trips through the libvirt connection
   kind (a private session libvirtd, tests/helpers/libvirt_daemon.py, and a
   TCG guest) against the socket driver to a QEMU started with the same
   machine options; both through the same QmpConnection interface.  Reported
   as a rate each and their ratio (libvirt adds its RPC, its daemon and its
   monitor job to every request).  Skipped when libvirt is not installed.

Run: ``.venv/bin/python bench/bench_fleet.py [--vms N] [--rounds R] [--json]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import select
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from helpers.drivers import loop_thread  # noqa: E402
from helpers.libvirt_daemon import LibvirtDaemon, libvirt_missing_message  # noqa: E402
from helpers.qemu_process import QemuProcess, have_qemu, qemu_missing_message  # noqa: E402

from qmpshell.runner.pipeline import Runner  # noqa: E402
from qmpshell.schema.model import Schema  # noqa: E402
from qmpshell.settings import Settings  # noqa: E402
from qmpshell.shorthand.parser import ShorthandParser  # noqa: E402
from qmpshell.wire.aio import AsyncConnection  # noqa: E402
from qmpshell.wire.blocking import BlockingConnection  # noqa: E402

RAW_REQUEST = b'{"execute":"query-status"}'
"""The bytes the shell sends for ``query-status`` to QEMU 3.0 and later."""


def raw_socket(conn: BlockingConnection) -> socket.socket:
    """A bare client's handle on ``conn``'s socket (negotiated already, not
    blocking): what it reads never reaches the shell's protocol, which
    awaits nothing meanwhile."""
    return socket.socket(fileno=os.dup(conn.fileno()))


def read_line(sock: socket.socket) -> bytes:
    data = b""
    while not data.endswith(b"\n"):
        select.select([sock], [], [], 30.0)
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("QEMU hung up")
        data += chunk
    return data


def raw_in_turn(socks: list[socket.socket]) -> None:
    """Each request written, its reply read, then the next: no parsing."""
    for sock in socks:
        sock.send(RAW_REQUEST)
        read_line(sock)


def raw_at_once(socks: list[socket.socket]) -> None:
    """Every request written, then one poll over all sockets until each
    reply is in: the least work any client can do for this fan-out."""
    for sock in socks:
        sock.send(RAW_REQUEST)
    poller = select.poll()
    for sock in socks:
        poller.register(sock, select.POLLIN)
    by_fd = {sock.fileno(): sock for sock in socks}
    left = len(socks)
    while left:
        for fd, _ in poller.poll(30_000):
            left -= by_fd[fd].recv(65536).count(b"\n")


def cpu_seconds(pids: list[int]) -> float:
    """User and system time these processes used so far (Linux; 0 elsewhere)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def own_cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system


def fan_out(workdir: Path, vms: int, rounds: int, lines: int) -> dict[str, list[float]]:
    """Seconds per line of 20 requests: the fan-out, and in turn; and the
    same requests from a bare client on the same sockets.  Also the CPU time
    per line of the QEMUs ("... qemu cpu") and of this process ("... own
    cpu") during each.  Then the fan-out and the lines in turn again over
    the prompt's driver ("prompt ...")."""
    qemus = [QemuProcess(workdir / f"q{i}").start() for i in range(1, vms + 1)
             if (workdir / f"q{i}").mkdir() is None]
    try:
        times = scripted_fan_out(qemus, rounds, lines)
        times.update(prompt_fan_out(qemus, rounds, lines))
        return times
    finally:
        for q in qemus:
            q.stop()


def quiet_runner() -> Runner:
    """A runner whose output goes nowhere (failures to stderr)."""
    schema = Schema()
    return Runner(Settings(timeout=30.0), parser=ShorthandParser(schema, allow_unknown=True),
                  schema=schema, connection=None, out=lambda _: None,
                  report=lambda error, where: print(f"{where}: {error}", file=sys.stderr))


def scripted_fan_out(qemus: list[QemuProcess], rounds: int,
                     lines: int) -> dict[str, list[float]]:
    """The blocking driver (scripts), and a bare client on its sockets."""
    vms = len(qemus)
    pids = [q.proc.pid for q in qemus if q.proc is not None]
    conns: list[BlockingConnection] = []
    socks: list[socket.socket] = []
    try:
        runner = quiet_runner()
        schema = runner.schema
        for i, q in enumerate(qemus, 1):
            conn = BlockingConnection(str(q.socket_path), timeout=30.0)
            conn.connect()
            conns.append(conn)
            runner.attach(f"q{i}", conn, schema)
            socks.append(raw_socket(conn))
        one_by_one = [f"@q{i} query-status" for i in range(1, vms + 1)]

        def fan() -> None:
            assert runner.run_line("@all query-status")

        def turn() -> None:
            for line in one_by_one:
                assert runner.run_line(line)

        kinds = {"fan-out": fan, "in turn": turn, "raw at once": lambda: raw_at_once(socks),
                 "raw in turn": lambda: raw_in_turn(socks)}
        times: dict[str, list[float]] = {}
        for name in kinds:
            times[name] = []
            times[f"{name} qemu cpu"] = [0.0]
            times[f"{name} own cpu"] = [0.0]
        fan()  # caches warm
        raw_at_once(socks)
        for _ in range(rounds):
            for name, run in kinds.items():
                qemu_cpu, own_cpu = cpu_seconds(pids), own_cpu_seconds()
                start = time.perf_counter()
                for _ in range(lines):
                    run()
                times[name].append((time.perf_counter() - start) / lines)
                times[f"{name} qemu cpu"][0] += (cpu_seconds(pids) - qemu_cpu) / lines / rounds
                times[f"{name} own cpu"][0] += (own_cpu_seconds() - own_cpu) / lines / rounds
        runner.close_pool()
        return times
    finally:
        for sock in socks:
            sock.close()
        for conn in conns:
            conn.close()


def prompt_fan_out(qemus: list[QemuProcess], rounds: int,
                   lines: int) -> dict[str, list[float]]:
    """The same lines over the asyncio driver, as at the prompt: its loop in
    a thread of its own, the lines run from another."""
    conns: list[AsyncConnection] = []
    with loop_thread() as loop:
        try:
            runner = quiet_runner()
            for i, q in enumerate(qemus, 1):
                conn = AsyncConnection(str(q.socket_path), timeout=30.0)
                conns.append(conn)
                asyncio.run_coroutine_threadsafe(conn.connect(), loop).result(30)
                runner.attach(f"q{i}", conn, runner.schema)
            one_by_one = [f"@q{i} query-status" for i in range(1, len(qemus) + 1)]
            times: dict[str, list[float]] = {"prompt fan-out": [], "prompt in turn": []}
            assert runner.run_line("@all query-status")  # caches warm
            for _ in range(rounds):
                start = time.perf_counter()
                for _ in range(lines):
                    assert runner.run_line("@all query-status")
                times["prompt fan-out"].append((time.perf_counter() - start) / lines)
                start = time.perf_counter()
                for _ in range(lines):
                    for line in one_by_one:
                        assert runner.run_line(line)
                times["prompt in turn"].append((time.perf_counter() - start) / lines)
            runner.close_pool()
            return times
        finally:
            for conn in conns:
                conn.close()


MACHINE = ["-machine", "pc,accel=tcg", "-m", "64"]
"""What the libvirt guest runs (helpers/libvirt_daemon.py), for the direct QEMU."""


def round_trips(conn: object, count: int) -> float:
    execute = conn.execute  # type: ignore[attr-defined]
    start = time.perf_counter()
    for _ in range(count):
        execute({"execute": "query-status"})
    return count / (time.perf_counter() - start)


def libvirt_vs_socket(workdir: Path, rounds: int, count: int) -> dict[str, list[float]] | None:
    """Round trips per second, libvirt and direct, rounds interleaved."""
    if libvirt_missing_message() is not None:
        return None
    from qmpshell.wire.libvirt import open_domains

    daemon = LibvirtDaemon().start()
    direct_dir = workdir / "direct"
    direct_dir.mkdir()
    qemu = QemuProcess(direct_dir, args=MACHINE).start()
    try:
        name = daemon.create_domain("bench-guest")
        [guest] = open_domains(daemon.uri, [name], timeout=30.0)
        sock = BlockingConnection(str(qemu.socket_path), timeout=30.0)
        sock.connect()
        rates: dict[str, list[float]] = {"libvirt": [], "socket": []}
        round_trips(guest, 10)
        round_trips(sock, 10)
        for _ in range(rounds):
            rates["libvirt"].append(round_trips(guest, count))
            rates["socket"].append(round_trips(sock, count))
        guest.close()
        sock.close()
        return rates
    finally:
        qemu.stop()
        daemon.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vms", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--lines", type=int, default=20, help="fan-out lines per round")
    parser.add_argument("--count", type=int, default=300, help="round trips per round")
    parser.add_argument("--json", action="store_true", help="also print the summary as JSON")
    args = parser.parse_args(argv)
    if not have_qemu():
        print(qemu_missing_message(), file=sys.stderr)
        return 2
    summary: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="bench-fleet-") as tmp:
        times = fan_out(Path(tmp), args.vms, args.rounds, args.lines)
        fan, turn, raw_fan, raw_turn = (statistics.median(times[k]) * 1000 for k in (
            "fan-out", "in turn", "raw at once", "raw in turn"))
        rounds_ratio = statistics.median(
            t / f for t, f in zip(times["in turn"], times["fan-out"], strict=True))
        print(f"query-status to {args.vms} QEMUs (median of {args.rounds} rounds, "
              f"{args.lines} lines each):")
        print(f"  @all (at once)        {fan:8.2f} ms per line")
        print(f"  @qN one after another {turn:8.2f} ms per {args.vms} lines")
        print(f"  fan-out speed-up      {turn / fan:8.2f}x   (target >= 3x; "
              f"median of each round's own: {rounds_ratio:.2f}x)")
        print("  the same requests from a bare client (bytes written, replies counted,")
        print("  nothing parsed), over the same sockets:")
        print(f"    all at once         {raw_fan:8.2f} ms")
        print(f"    one after another   {raw_turn:8.2f} ms   (speed-up {raw_turn / raw_fan:.2f}x)")
        print(f"  ceiling: @qN one after another / bare all at once "
              f"{turn / raw_fan:6.2f}x   (no fan-out can beat it here)")
        prompt_fan, prompt_turn = (statistics.median(times[k]) * 1000 for k in (
            "prompt fan-out", "prompt in turn"))
        print(f"  @all / bare all at once {fan / raw_fan:6.2f}   "
              "(what the shell adds to a fan-out)")
        qemu_fan, own_fan, own_raw = (times[k][0] * 1000 for k in (
            "raw at once qemu cpu", "fan-out own cpu", "raw at once own cpu"))
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") \
            else os.cpu_count() or 1  # the cores this process (and its QEMUs) may use
        print(f"  CPU per fan-out line: the {args.vms} QEMUs {qemu_fan:.2f} ms, so at least "
              f"{qemu_fan / cores:.2f} ms on {cores} cores;")
        print(f"    this process {own_fan:.2f} ms for @all, {own_raw:.2f} ms for the bare client")
        # A round trip is mostly the QEMUs' own CPU (the monitor reads a byte
        # per turn of its loop): the cores bound what sending at once can gain.
        per_request = qemu_fan / args.vms * 1000
        bare_bound = cores * raw_turn / qemu_fan
        shell_bound = cores * turn / qemu_fan
        print(f"  the QEMUs' CPU per request at once {per_request:.0f} us; a round trip in turn "
              f"{raw_turn / args.vms * 1000:.0f} us (bare), {turn / args.vms * 1000:.0f} us (@qN):")
        print(f"    on {cores} cores, at once can be at most {bare_bound:.2f}x faster than the "
              f"bare client in turn, {shell_bound:.2f}x than @qN in turn")
        print("  the same lines over the prompt's driver (asyncio, lines run from a worker "
              "thread):")
        print(f"    @all (at once)        {prompt_fan:8.2f} ms per line")
        print(f"    @qN one after another {prompt_turn:8.2f} ms per {args.vms} lines")
        print(f"    fan-out speed-up      {prompt_turn / prompt_fan:8.2f}x")
        summary.update({"fan-out ms": fan, "in turn ms": turn, "speed-up": turn / fan,
                        "raw at once ms": raw_fan, "raw in turn ms": raw_turn,
                        "ceiling": turn / raw_fan, "speed-up per round": rounds_ratio,
                        "qemu cpu per line ms": qemu_fan, "cores": cores,
                        "cpu bound bare": bare_bound, "cpu bound": shell_bound,
                        "prompt fan-out ms": prompt_fan, "prompt in turn ms": prompt_turn,
                        "prompt speed-up": prompt_turn / prompt_fan})
        rates = libvirt_vs_socket(Path(tmp), args.rounds, args.count)
    if rates is None:
        print(f"libvirt: skipped ({libvirt_missing_message()})")
    else:
        lv, direct = (statistics.median(rates[k]) for k in ("libvirt", "socket"))
        print(f"query-status round trips, same machine type (median of {args.rounds} rounds "
              f"of {args.count}):")
        print(f"  through libvirt       {lv:8.0f} /s")
        print(f"  direct socket         {direct:8.0f} /s")
        print(f"  libvirt / socket      {lv / direct:8.3f}   (1/{direct / lv:.1f})")
        summary.update({"libvirt rate": lv, "socket rate": direct,
                        "libvirt / socket": lv / direct})
    if args.json:
        print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
