"""``.pager on``: long replies through the user's pager.

The pager is chosen as :mod:`pydoc` chooses it: ``$MANPAGER`` or ``$PAGER``
(a command line, run by the shell), with colour taken out on a ``dumb`` or
``emacs`` terminal; without either, ``less`` (with colour kept and quitting
at once when the text fits), else ``more``, else the text is printed.  The
pager runs as a child process that the event loop waits for without
blocking, so the connection keeps being read meanwhile.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass

LESS = "less -R -F -X"
"""The default: colour escapes shown as colour, no pager for one screen."""

_ESCAPES = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


@dataclass(frozen=True)
class Pager:
    """How to show a long text: a shell command line fed the text, or None
    to print it; ``plain`` takes colour out first."""

    command: str | None
    plain: bool = False


def choose_pager(env: Mapping[str, str],
                 which: Callable[[str], str | None] = shutil.which) -> Pager:
    """pydoc's rule (see the module doc) over ``env``."""
    dumb = env.get("TERM") in ("dumb", "emacs")
    chosen = env.get("MANPAGER") or env.get("PAGER")
    if chosen:
        return Pager(chosen, plain=dumb)
    if dumb:
        return Pager(None, plain=True)
    if which("less"):
        return Pager(LESS)
    if which("more"):
        return Pager("more")
    return Pager(None)


def plain(text: str) -> str:
    """``text`` without colour escapes."""
    return _ESCAPES.sub("", text)


async def page(text: str, pager: Pager, write: Callable[[str], None] | None = None) -> None:
    """Show ``text`` through ``pager``; ``write`` prints it when there is no
    pager or it cannot be started.  Returns when the pager exits."""
    shown = plain(text) if pager.plain else text
    out = write or _print
    if pager.command is None:
        out(shown)
        return
    sys.stdout.flush()
    try:
        proc = await asyncio.create_subprocess_shell(pager.command,
                                                     stdin=asyncio.subprocess.PIPE)
    except OSError:
        out(shown)
        return
    assert proc.stdin is not None
    try:
        proc.stdin.write(shown.encode("utf-8", "backslashreplace") + b"\n")
        await proc.stdin.drain()
    except (BrokenPipeError, ConnectionResetError):
        pass  # the pager was quit before reading everything
    finally:
        proc.stdin.close()
    await proc.wait()


def _print(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()
