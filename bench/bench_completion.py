"""Completion latency per keystroke over QEMU 7.2's full schema.

Types a few real lines one character at a time and times, for every prefix:

- qmpshell: ``QmpCompleter.get_completions`` (what the menu shows while typing:
  commands, arguments, union branches, nested members, enum values);
- qmpshell Tab: ``QmpCompleter.tab``, what the Tab key decides at once;
- qmpshell redraw: the same plus the toolbar (with its parser check) and the
  input lexer, all that one keystroke costs the prompt besides drawing;
- qmp-shell: QEMU's ``qemu.qmp.qmp_shell.QMPCompleter`` over the same command
  names, asked by readline's protocol (``complete(text, state)`` until None).
  It only ever completes command names, so it does less per keystroke.

Prints p50 and p99 in microseconds and the ratios: wall time, and the CPU
time of the thread (what a keystroke costs, without the waits of a machine
busy with other work).  Run:
``.venv/bin/python bench/bench_completion.py [--rounds N]``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from prompt_toolkit.completion import CompleteEvent
from prompt_toolkit.document import Document

from qmpshell.prompt.app import line_check
from qmpshell.prompt.completion import QmpCompleter
from qmpshell.prompt.toolbar import toolbar_fragments
from qmpshell.schema.introspect import schema_from_qapi
from qmpshell.shorthand.lexer import ShorthandLexer

FIXTURE = Path(__file__).resolve().parents[1] / "tests" / "fixtures"
LINES = (
    "block_resize device=scratch size=1G",
    "blockdev-add driver=qcow2 node-name=disk1 file.driver=file file.filename=/tmp/d.qcow2",
    "migrate-set-parameters max-bandwidth=1000000 downtime-limit=300",
    "query-named-block-nodes flat=true",
    "object-add qom-type=memory-backend-ram id=mem0 size=64M",
)


def prefixes() -> list[str]:
    return [line[:i] for line in LINES for i in range(len(line) + 1)]


def percentiles(work: Callable[[str], object], texts: list[str], rounds: int,
                clock: Callable[[], float] = time.perf_counter) -> tuple[float, float]:
    """p50 and p99 of one call, in microseconds, over every prefix and round."""
    samples = []
    for _ in range(rounds):
        for text in texts:
            start = clock()
            work(text)
            samples.append(clock() - start)
    samples.sort()
    p99 = samples[min(len(samples) - 1, int(len(samples) * 0.99))]
    return statistics.median(samples) * 1e6, p99 * 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--json", action="store_true", help="also print the summary as JSON")
    args = parser.parse_args()

    schema = schema_from_qapi(json.loads(
        (FIXTURE / "qemu-7.2-query-qmp-schema.json").read_text()))
    completer = QmpCompleter(lambda: schema)
    event = CompleteEvent(text_inserted=True)

    def ours(text: str) -> object:
        return list(completer.get_completions(Document(text), event))

    def tab(text: str) -> object:
        return completer.tab(Document(text))

    check = line_check(schema, False)

    def redraw(text: str) -> object:
        ours(text)
        toolbar_fragments(text, schema, check=check)
        return list(ShorthandLexer(schema=schema).get_tokens(text))

    try:
        from qemu.qmp.qmp_shell import QMPCompleter
    except ImportError:
        QMPCompleter = None  # noqa: N806 - the class, when installed

    theirs: Callable[[str], object] | None = None
    if QMPCompleter is not None:
        legacy = QMPCompleter()
        for name in schema.command_names():
            legacy.append(name)

        def theirs(text: str) -> object:
            found, state = [], 0
            while (match := legacy.complete(text, state)) is not None:
                found.append(match)
                state += 1
            return found

    texts = prefixes()
    for work in (ours, redraw, *(() if theirs is None else (theirs,))):  # warm up
        for text in texts:
            work(text)

    print(f"{len(schema.commands)} commands, {len(texts)} keystrokes x {args.rounds} rounds")
    ours_p = percentiles(ours, texts, args.rounds)
    tab_p = percentiles(tab, texts, args.rounds)
    redraw_p = percentiles(redraw, texts, args.rounds)
    cpu = {name: percentiles(work, texts, args.rounds, time.thread_time)
           for name, work in (("completion", ours), ("Tab", tab), ("redraw", redraw))}
    print(f"{'':34}{'p50 us':>10}{'p99 us':>10}{'cpu p50':>10}{'cpu p99':>10}")
    for name, wall, spent in (("qmpshell completion", ours_p, cpu["completion"]),
                              ("qmpshell Tab", tab_p, cpu["Tab"]),
                              ("qmpshell completion+toolbar+lexer", redraw_p, cpu["redraw"])):
        print(f"{name:34}{wall[0]:10.1f}{wall[1]:10.1f}{spent[0]:10.1f}{spent[1]:10.1f}")
    summary = {"completion p50 us": ours_p[0], "completion p99 us": ours_p[1],
               "Tab p50 us": tab_p[0], "Tab p99 us": tab_p[1],
               "redraw p50 us": redraw_p[0], "redraw p99 us": redraw_p[1],
               **{f"{name} cpu p99 us": spent[1] for name, spent in cpu.items()}}
    if theirs is None:
        print("qmp-shell: qemu.qmp not installed (pip install qemu.qmp)")
    else:
        theirs_p = percentiles(theirs, texts, args.rounds)
        print(f"{'qmp-shell QMPCompleter':34}{theirs_p[0]:10.1f}{theirs_p[1]:10.1f}")
        print(f"ratio qmpshell/qmp-shell: p50 {ours_p[0] / theirs_p[0]:.1f}x, "
              f"p99 {ours_p[1] / theirs_p[1]:.1f}x; "
              f"slowest qmpshell redraw p99 is {redraw_p[1] / 16000:.1%} of a 16 ms frame")
        summary.update({"qmp-shell p50 us": theirs_p[0], "qmp-shell p99 us": theirs_p[1],
                        "p50 ratio": ours_p[0] / theirs_p[0],
                        "p99 ratio": ours_p[1] / theirs_p[1]})
    if args.json:
        print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
