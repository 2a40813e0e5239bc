"""Run every benchmark in bench/ with modest sizes and print a summary of ratios.

Each benchmark runs as its own process (the ones that need a server start
their own QEMU through tests/helpers/qemu_process.py) and measures its baselines in
the same run; its full report is printed as it finishes, and its ``--json``
summary feeds the table at the end.  The whole takes a few minutes.  Figures
are ratios against those baselines, never absolute limits: a busy machine
slows both sides of a ratio alike.

Run: ``make bench`` or ``.venv/bin/python bench/run_all.py [--quick]``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Bench:
    script: str
    args: tuple[str, ...]
    quick: tuple[str, ...]


BENCHES = (
    Bench("bench_replay.py", ("-n", "4000", "--rounds", "5"), ("-n", "1000", "--rounds", "3")),
    Bench("bench_startup.py", ("--rounds", "20"), ("--rounds", "3")),
    Bench("bench_completion.py", ("--rounds", "10"), ("--rounds", "3")),
    Bench("bench_schema.py", ("--rounds", "10"), ("--rounds", "3")),
    Bench("bench_parse.py", ("--rounds", "3", "--repeat", "20"),
          ("--rounds", "2", "--repeat", "5")),
    Bench("bench_table_load.py", ("--rounds", "10"), ("--rounds", "3")),
    Bench("bench_masking.py", ("--rounds", "5"), ("--rounds", "2")),
    Bench("bench_fleet.py", ("--rounds", "9"), ("--rounds", "2", "--lines", "5", "--count", "100")),
)


@dataclass(frozen=True)
class Row:
    """One line of the summary: what, ours, the baseline, and the ratio."""

    bench: str
    what: str
    ours: str
    baseline: str
    ratio: str
    goal: str = ""


def run(bench: Bench, quick: bool) -> dict[str, float] | None:
    """Run one benchmark, echoing its report; its JSON summary (None if it failed)."""
    command = [sys.executable, str(HERE / bench.script), *(bench.quick if quick else bench.args),
               "--json"]
    print(f"== {bench.script} {' '.join(command[2:])}", flush=True)
    start = time.perf_counter()
    r = subprocess.run(command, capture_output=True, text=True, check=False)
    lines = r.stdout.rstrip("\n").splitlines()
    summary = None
    if r.returncode == 0 and lines and lines[-1].startswith("{"):
        summary = json.loads(lines.pop())
    print("\n".join(lines))
    if r.returncode != 0 or summary is None:
        print(f"   failed (exit {r.returncode}): {r.stderr.strip()[-800:]}")
    print(f"   ({time.perf_counter() - start:.0f} s)\n", flush=True)
    return summary


def fmt(value: float, unit: str) -> str:
    return f"{value:,.0f} {unit}" if value >= 100 else f"{value:.1f} {unit}"


def replay_rows(s: dict[str, float]) -> list[Row]:
    ours = s["rate qmpshell"]
    rows = [Row("replay", "req/s vs raw loop (same requests and output)",
                fmt(ours, "req/s"), fmt(s["rate raw loop"], "req/s"),
                f"{s['qmpshell / raw loop']:.0%}", ">= 80%"),
            Row("replay", "req/s vs raw client process", fmt(ours, "req/s"),
                fmt(s["rate raw process"], "req/s"), f"{s['qmpshell / raw process']:.0%}",
                ">= 95%"),
            Row("replay", "same, without sending ahead", fmt(s["rate qmpshell, in turn"], "req/s"),
                fmt(s["rate raw process"], "req/s"),
                f"{s['qmpshell in turn / raw process']:.0%}", "")]
    if "qmpshell / qmp-shell" in s:
        rows.append(Row("replay", "req/s vs qmp-shell", fmt(ours, "req/s"),
                        fmt(s["rate qmp-shell"], "req/s"), f"{s['qmpshell / qmp-shell']:.2f}x",
                        "> 1x"))
    return rows


def startup_rows(s: dict[str, float]) -> list[Row]:
    return [
        Row("start-up", "first prompt shown (pty)", fmt(s["qmpshell prompt ms"], "ms"),
            fmt(s["qmp-shell prompt ms"], "ms"), f"{s['prompt ratio']:.2f}x", "<= 1x"),
        Row("start-up", "typed text shown at the first prompt", fmt(s["qmpshell ready ms"], "ms"),
            fmt(s["qmp-shell ready ms"], "ms"), f"{s['ready ratio']:.2f}x"),
        Row("start-up", "  the same completed by Tab, run, answered",
            fmt(s["qmpshell completes ms"], "ms"),
            fmt(s["qmp-shell completes ms"], "ms"), f"{s['completes ratio']:.2f}x"),
        Row("start-up", "scripted: -c query-status vs qmp-shell", fmt(s["qmpshell -c ms"], "ms"),
            fmt(s["qmp-shell -c ms"], "ms"), f"{s['scripted ratio']:.2f}x", "<= 0.6x"),
        Row("start-up", "  the same, median of each round's ratio", "", "",
            f"{s['scripted ratio per round']:.2f}x", "<= 0.6x"),
        Row("start-up", "scripted: -c query-status vs raw client", fmt(s["qmpshell -c ms"], "ms"),
            fmt(s["raw client -c ms"], "ms"), f"{s['scripted vs raw']:.2f}x", "<= 2x"),
    ]


def completion_rows(s: dict[str, float]) -> list[Row]:
    rows = []
    if "p50 ratio" in s:
        rows.append(Row("completion", "p50 per keystroke vs qmp-shell's completer",
                        fmt(s["completion p50 us"], "us"), fmt(s["qmp-shell p50 us"], "us"),
                        f"{s['p50 ratio']:.1f}x"))
        rows.append(Row("completion", "p99 per keystroke vs qmp-shell's completer",
                        fmt(s["completion p99 us"], "us"), fmt(s["qmp-shell p99 us"], "us"),
                        f"{s['p99 ratio']:.1f}x"))
    rows.append(Row("completion", "p99 redraw work vs a 16 ms frame",
                    fmt(s["redraw p99 us"], "us"), "16,000 us",
                    f"{s['redraw p99 us'] / 16000:.1%}", "well under 100%"))
    return rows


def schema_rows(s: dict[str, float]) -> list[Row]:
    return [Row("schema", "warm start vs query-qmp-schema round trip",
                fmt(s["warm ms"], "ms"), "round trip", f"{s['warm / baseline']:.2f}x", "< 1x"),
            Row("schema", "cold start vs query-qmp-schema round trip",
                fmt(s["cold ms"], "ms"), "round trip", f"{s['cold / baseline']:.2f}x")]


def parse_rows(s: dict[str, float]) -> list[Row]:
    return [Row("parse", "shorthand line vs json.loads of its JSON",
                fmt(s["parse us/line"], "us"), "json.loads", f"{s['parse / json.loads']:.1f}x")]


def table_rows(s: dict[str, float]) -> list[Row]:
    return [Row("table", "bundled table load vs json.load of it", fmt(s["load ms"], "ms"),
                "json.load", f"{s['load / json.load']:.1f}x")]


def masking_rows(s: dict[str, float]) -> list[Row]:
    return [Row("masking", "growth of mask/scan ratio, 5 KB -> 100 KB lines (worst shape)",
                fmt(s["slowest 100 KB ms"], "ms"), "re.findall scan",
                f"{s['worst growth']:.1f}x", "~1 (20 = quadratic)")]


def fleet_rows(s: dict[str, float]) -> list[Row]:
    rows = [Row("fleet", "@all query-status to 20 QEMUs vs the 20 lines in turn",
                fmt(s["fan-out ms"], "ms"), fmt(s["in turn ms"], "ms"),
                f"{s['speed-up']:.1f}x", ">= 3x")]
    if "prompt speed-up" in s:
        rows.append(Row("fleet", "the same over the prompt's driver (asyncio)",
                        fmt(s["prompt fan-out ms"], "ms"), fmt(s["prompt in turn ms"], "ms"),
                        f"{s['prompt speed-up']:.1f}x"))
    if "ceiling" in s:
        rows.append(Row("fleet", "ceiling: the 20 lines in turn vs a bare client's fan-out",
                        fmt(s["raw at once ms"], "ms"), fmt(s["in turn ms"], "ms"),
                        f"{s['ceiling']:.1f}x", "bounds the above"))
    if "libvirt / socket" in s:
        rows.append(Row("fleet", "round trips through libvirt vs a socket",
                        fmt(s["libvirt rate"], "/s"), fmt(s["socket rate"], "/s"),
                        f"1/{1 / s['libvirt / socket']:.1f}", "reported"))
    return rows


ROWS: dict[str, Callable[[dict[str, float]], list[Row]]] = {
    "bench_replay.py": replay_rows, "bench_startup.py": startup_rows,
    "bench_completion.py": completion_rows, "bench_schema.py": schema_rows,
    "bench_parse.py": parse_rows, "bench_table_load.py": table_rows,
    "bench_fleet.py": fleet_rows, "bench_masking.py": masking_rows,
}


def table(rows: list[Row]) -> str:
    header = Row("bench", "measure", "qmpshell", "baseline", "ratio", "goal")
    cells = [header, *rows]
    widths = [max(len(getattr(r, f)) for r in cells)
              for f in ("bench", "what", "ours", "baseline", "ratio", "goal")]
    out = []
    for i, r in enumerate(cells):
        values = (r.bench, r.what, r.ours, r.baseline, r.ratio, r.goal)
        out.append("  ".join(v.ljust(w) if j < 2 else v.rjust(w) if j < 5 else v
                             for j, (v, w) in enumerate(zip(values, widths, strict=True))))
        if i == 0:
            out.append("-" * len(out[0]))
    return "\n".join(line.rstrip() for line in out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke test")
    args = parser.parse_args(argv)
    rows: list[Row] = []
    failed = []
    for bench in BENCHES:
        summary = run(bench, args.quick)
        if summary is None:
            failed.append(bench.script)
            continue
        rows += ROWS[bench.script](summary)
    print("== summary (each ratio against a baseline measured in the same run)")
    print(table(rows))
    if failed:
        print(f"failed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
