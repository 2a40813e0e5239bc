"""Masking is linear in the line's length: what a long paste costs.

History, recordings and logs mask every line before writing it, in the
prompt's event loop, so a quadratic pass over a 100 KB paste would freeze
the prompt for seconds.  For each pathological shape (a word repeated to
5 KB and to 100 KB), this measures ``mask_line`` against a baseline measured
in the same run on the same text: one linear regex pass over its words
(``re.findall(r"\\S+")``).  A linear masker keeps the same ratio to the
baseline at both sizes; the summary reports the worst growth of that ratio
from 5 KB to 100 KB (1.0 is perfectly linear, 20 would be quadratic).

Run: ``.venv/bin/python bench/bench_masking.py [--rounds N] [--json]``.
"""

from __future__ import annotations

import argparse
import json
import re
import time
from collections.abc import Callable, Sequence

from qmpshell.secrets import mask_line

PATHOLOGICAL = ["pass", "a", "password=", 'x "', '"password": "', "key=", "=",
                "secret-", " object_add secret,data=", "\\", '"a":', "qom-type=secret ",
                'human-monitor-command command-line="set_password vnc ', " ; ", ",,", "@", "@a "]


def best_of(rounds: int, work: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - start)
    return best


def sized(unit: str, size: int) -> str:
    return (unit * (size // len(unit) + 1))[:size]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="also print the summary as JSON")
    args = parser.parse_args(argv)
    worst = 0.0
    worst_ms = 0.0
    print(f"{'shape':>58}  {'5 KB ratio':>10}  {'100 KB ratio':>12}  growth")
    for unit in PATHOLOGICAL:
        ratios = []
        for size in (5_000, 100_000):
            text = sized(unit, size)

            def ours(text: str = text) -> None:
                mask_line(text)
                mask_line(".hmp " + text)

            def scan(text: str = text) -> None:
                re.findall(r"\S+", text)
                re.findall(r"\S+", ".hmp " + text)

            mine = best_of(args.rounds, ours)
            base = max(best_of(args.rounds, scan), 1e-6)
            ratios.append(mine / base)
            if size == 100_000:
                worst_ms = max(worst_ms, mine * 1000)
        growth = ratios[1] / ratios[0]
        worst = max(worst, growth)
        print(f"{unit!r:>58}  {ratios[0]:10.1f}  {ratios[1]:12.1f}  {growth:6.2f}x")
    print(f"worst growth of the ratio from 5 KB to 100 KB: {worst:.2f}x "
          f"(linear: ~1, quadratic: ~20); slowest 100 KB line: {worst_ms:.1f} ms")
    if args.json:
        print(json.dumps({"worst growth": worst, "slowest 100 KB ms": worst_ms}))


if __name__ == "__main__":
    main()
