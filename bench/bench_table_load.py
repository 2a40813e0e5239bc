"""What loading the bundled command table costs at start-up.

Times, in this process (median of N runs):

- baseline: ``json.load`` of ``qmpshell/data/commands.json`` alone;
- load: ``qmpshell.schema.table.load_bundled_schema()`` (JSON read + schema objects);
- spec: ``qmpshell.schema.spec.read_spec`` of the bundled spec copy, what start-up
  would pay without the table;

and, as fresh processes (median of N runs):

- ``python -c pass`` (the interpreter alone);
- ``python -c 'import json; json.load(open(TABLE))'``;
- ``python -c 'import qmpshell.schema.table; qmpshell.schema.table.load_bundled_schema()'``.

Run: ``.venv/bin/python bench/bench_table_load.py [--rounds N]``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from qmpshell.schema.spec import read_spec
from qmpshell.schema.table import load_bundled_schema

DATA = Path(__file__).resolve().parents[1] / "qmpshell" / "schema" / "data"
TABLE = DATA / "commands.json"
SPEC = DATA / "qmp-commands.hx.blame.txt"


def median_ms(work: Callable[[], object], rounds: int) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def process_ms(code: str, rounds: int) -> float:
    def run() -> None:
        subprocess.run([sys.executable, "-c", code], check=True)

    run()  # warm the file cache
    return median_ms(run, rounds)


def load_json() -> object:
    with TABLE.open(encoding="utf-8") as f:
        return json.load(f)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--json", action="store_true", help="also print the summary as JSON")
    args = parser.parse_args()
    rounds = args.rounds
    spec_text = SPEC.read_text(encoding="utf-8")

    base = median_ms(load_json, rounds)
    load = median_ms(load_bundled_schema, rounds)
    spec = median_ms(lambda: read_spec(spec_text), max(3, rounds // 5))
    print(f"table: {TABLE.stat().st_size / 1024:.0f} KiB, {rounds} rounds (median)")
    print(f"in process  json.load            {base:7.2f} ms")
    print(f"in process  load_bundled_schema  {load:7.2f} ms  ({load / base:.1f}x json.load)")
    print(f"in process  read_spec (no table) {spec:7.2f} ms  ({spec / load:.1f}x the table)")

    bare = process_ms("pass", rounds)
    raw = process_ms(f"import json; json.load(open({str(TABLE)!r}))", rounds)
    full = process_ms("from qmpshell.schema.table import load_bundled_schema; "
                      "load_bundled_schema()", rounds)
    print(f"process     python -c pass       {bare:7.2f} ms")
    print(f"process     json.load            {raw:7.2f} ms  (+{raw - bare:.1f} ms)")
    print(
        f"process     load_bundled_schema  {full:7.2f} ms  (+{full - bare:.1f} ms,"
        f" {full / bare:.2f}x python -c pass, {full / raw:.2f}x json.load)"
    )
    if args.json:
        print(json.dumps({"load ms": load, "load / json.load": load / base,
                          "process load ms": full, "process / python -c pass": full / bare}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
