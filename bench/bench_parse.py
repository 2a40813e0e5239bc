"""Shorthand parsing speed: lines per second over the spec's request examples.

The spec's examples (108 requests, minus dump-guest-memory's, which the table
refuses) are rendered to shorthand with ``format_request`` and parsed back
with ``parse_line`` typed by the bundled table.  Baselines measured in the
same run over the same requests:

- ``json.loads`` of each request's JSON text (what a raw JSON line costs);
- ``shlex.split`` of each shorthand line (splitting words, no typing at all).

A second figure types nested lines by QEMU 7.2's schema (unions, alternates).

Run: ``.venv/bin/python bench/bench_parse.py [--rounds R] [--repeat N]``.
"""

from __future__ import annotations

import argparse
import json
import shlex
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from qmpshell.schema.introspect import schema_from_qapi
from qmpshell.schema.model import Schema
from qmpshell.schema.table import load_bundled_schema
from qmpshell.shorthand.parser import format_request, parse_line

FIXTURE = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / (
    "qemu-7.2-query-qmp-schema.json")
NESTED = [
    "blockdev-add driver=qcow2 node-name=disk1 file.driver=file file.filename=/x",
    "object-add qom-type=rng-random id=rng0 filename=/dev/urandom",
    "chardev-add id=c0 backend.type=file backend.data.out=/tmp/x",
    "migrate-set-parameters max-bandwidth=1G downtime-limit=300 tls-creds=null",
    "transaction( blockdev-snapshot-sync device=d snapshot-file=/x format=qcow2 ; abort )",
]


def example_requests(schema: Schema) -> list[dict[str, object]]:
    return [e.json for c in schema.commands.values() for e in c.examples  # type: ignore[misc]
            if e.direction == "->" and e.valid and c.name != "dump-guest-memory"]


def lines_per_second(work: Callable[[str], object], items: Sequence[str],
                     rounds: int, repeat: int) -> float:
    """Best of ``rounds`` runs, each over ``items`` ``repeat`` times."""
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(repeat):
            for item in items:
                work(item)
        best = min(best, time.perf_counter() - start)
    return len(items) * repeat / best


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--json", action="store_true", help="also print the summary as JSON")
    args = parser.parse_args(argv)

    bundled = load_bundled_schema()
    requests = example_requests(bundled)
    lines = [format_request(r, bundled) for r in requests]
    texts = [json.dumps(r) for r in requests]
    live = schema_from_qapi(json.loads(FIXTURE.read_text()))

    def parse_bundled(line: str) -> object:
        return parse_line(line, bundled)

    def parse_live(line: str) -> object:
        return parse_line(line, live)

    rate = lines_per_second(parse_bundled, lines, args.rounds, args.repeat)
    loads = lines_per_second(json.loads, texts, args.rounds, args.repeat)
    split = lines_per_second(shlex.split, lines, args.rounds, args.repeat)
    nested = lines_per_second(parse_live, NESTED, args.rounds, args.repeat * 20)
    print(f"{len(lines)} spec example lines, best of {args.rounds} x {args.repeat} passes")
    print(f"  parse_line (bundled table)     {rate:12,.0f} lines/s")
    print(f"  json.loads of the same JSON    {loads:12,.0f} lines/s"
          f"   parse_line is {loads / rate:5.1f}x slower")
    print(f"  shlex.split of the same lines  {split:12,.0f} lines/s"
          f"   parse_line is {split / rate:5.1f}x {'slower' if split > rate else 'faster'}")
    print(f"  parse_line, QEMU 7.2 nested    {nested:12,.0f} lines/s"
          f"   ({len(NESTED)} lines)")
    print(f"  per line: {1e6 / rate:.1f} us (bundled), {1e6 / nested:.1f} us (7.2 nested)")
    if args.json:
        print(json.dumps({"parse us/line": 1e6 / rate, "nested us/line": 1e6 / nested,
                          "parse / json.loads": loads / rate,
                          "parse / shlex.split": split / rate}))


if __name__ == "__main__":
    main()
