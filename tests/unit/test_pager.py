"""The pager: chosen as pydoc chooses it, and run without holding up the
event loop."""

from __future__ import annotations

import asyncio
import shlex
import sys
from collections.abc import Callable
from pathlib import Path

from qmpshell.prompt.pager import LESS, Pager, choose_pager, page, plain


def test_pydocs_rule() -> None:
    def which(found: set[str]) -> Callable[[str], str | None]:
        return lambda name: f"/usr/bin/{name}" if name in found else None

    everything = which({"less", "more"})
    assert choose_pager({"PAGER": "most -s"}, everything) == Pager("most -s")
    assert choose_pager({"MANPAGER": "bat", "PAGER": "most"}, everything).command == "bat"
    assert choose_pager({"PAGER": "less", "TERM": "dumb"}, everything) == Pager("less", plain=True)
    assert choose_pager({"TERM": "emacs"}, everything) == Pager(None, plain=True)
    assert choose_pager({}, everything) == Pager(LESS)
    assert choose_pager({}, which({"more"})) == Pager("more")
    assert choose_pager({}, which(set())) == Pager(None)
    assert choose_pager({"PAGER": ""}, which({"more"})) == Pager("more")


def test_plain_takes_colour_out() -> None:
    assert plain('\x1b[38;5;28m"return"\x1b[39m: {}') == '"return": {}'


def test_the_pager_gets_the_text_while_the_loop_goes_on(tmp_path: Path) -> None:
    """The pager (here: copies its input to a file once a flag file exists)
    runs while other tasks carry on; page() returns when it exits."""
    got, go = tmp_path / "got.txt", tmp_path / "go"
    script = (f"import sys, os, time\n"
              f"while not os.path.exists({str(go)!r}): time.sleep(0.01)\n"
              f"open({str(got)!r}, 'w').write(sys.stdin.read())\n")
    command = f"{shlex.quote(sys.executable)} -c {shlex.quote(script)}"
    text = "\n".join(f"line {i}" for i in range(500))

    async def run() -> None:
        paging = asyncio.ensure_future(page(text, Pager(command)))
        ticks = 0
        while not paging.done() and ticks < 3:  # the loop runs while the pager waits
            await asyncio.sleep(0.01)
            ticks += 1
        assert ticks == 3 and not paging.done()
        go.write_text("")
        await asyncio.wait_for(paging, timeout=30)

    asyncio.run(run())
    assert got.read_text() == text + "\n"


def test_no_pager_or_one_that_cannot_start_prints_it() -> None:
    shown: list[str] = []
    asyncio.run(page("\x1b[1mhi\x1b[0m", Pager(None, plain=True), shown.append))
    assert shown == ["hi"]
