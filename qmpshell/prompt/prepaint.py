"""The prompt painted the moment the connection is up.

Importing prompt_toolkit and pygments, reading the schema and building the
prompt take a few hundred milliseconds on a slow machine, far longer than
QEMU's own ``qmp-shell`` needs to show its prompt.  So at a terminal the shell
writes ``(QEMU) `` as soon as it is connected, with the terminal's echo, line
editing and signal keys off: keys typed meanwhile wait in the terminal's
queue instead of being echoed and edited by the kernel, Ctrl-C included.
When prompt_toolkit takes the terminal, the settings come back (the queued
keys stay queued), the painted line is cleared, and prompt_toolkit draws the
same prompt in its place and reads the waiting keys as if they had been
typed at it, so Ctrl-C means what it means at the prompt.

Should the start-up take longer than :data:`HOLD` (a server slow to
describe itself), the terminal's settings come back early, so that Ctrl-C
interrupts a start-up that hangs, as it always did.  Standard library only:
this runs before the heavy imports.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping
from typing import Any, TextIO

PROMPT = "(QEMU) "
PROMPT_HMP = "(HMP) "
PROMPT_AGENT = "(QGA) "
"""As :mod:`qmpshell.prompt.app` draws them (a test keeps the two in step)."""

BRACKETED_PASTE_ON = "\x1b[?2004h"
BRACKETED_PASTE_OFF = "\x1b[?2004l"
"""A paste made while the shell starts arrives marked as one, as at the
prompt (prompt_toolkit asks for the same as it draws), so its lines are run
one by one rather than typed."""

HOLD = 1.5
"""Seconds the terminal stays quiet after painting (see the module doc)."""


class FirstPrompt:
    """A painted prompt and the terminal settings to give back (see module doc)."""

    def __init__(self, fd: int, saved: list[Any], out: TextIO) -> None:
        self._fd = fd
        self._saved = saved
        self._out = out
        self._timer: Any = None
        self.quiet = True
        self.released = False

    @classmethod
    def paint(cls, text: str, stdin: TextIO, stdout: TextIO,
              env: Mapping[str, str]) -> FirstPrompt | None:
        """Paint ``text`` now, or None where prompt_toolkit would not draw a
        plain prompt line the same way (no terminal, a dumb one)."""
        if env.get("TERM", "dumb") in ("", "dumb"):
            return None
        try:
            import termios

            if not (stdin.isatty() and stdout.isatty()):
                return None
            fd = stdin.fileno()
            saved = termios.tcgetattr(fd)
            quiet = [*saved[:6], list(saved[6])]
            quiet[3] = saved[3] & ~(termios.ECHO | termios.ICANON | termios.ISIG)
            quiet[6][termios.VMIN], quiet[6][termios.VTIME] = 1, 0
            termios.tcsetattr(fd, termios.TCSANOW, quiet)  # TCSANOW: typed keys stay
        except (ImportError, OSError, ValueError):
            return None
        first = cls(fd, saved, stdout)
        try:
            stdout.write(BRACKETED_PASTE_ON + text)
            stdout.flush()
        except OSError:
            first.release()
            return None
        with contextlib.suppress(RuntimeError):  # no loop: no time limit
            import asyncio

            first._timer = asyncio.get_running_loop().call_later(HOLD, first.restore)
        return first

    def restore(self) -> None:
        """The terminal's own settings again (the painted line stays)."""
        if not self.quiet:
            return
        self.quiet = False
        if self._timer is not None:
            self._timer.cancel()
        import termios

        with contextlib.suppress(OSError, termios.error):
            termios.tcsetattr(self._fd, termios.TCSANOW, self._saved)

    def release(self) -> None:
        """Give the terminal back as it was and clear the painted line; once."""
        if self.released:
            return
        self.released = True
        self.restore()
        with contextlib.suppress(OSError, ValueError):
            self._out.write("\r\x1b[K" + BRACKETED_PASTE_OFF)
            self._out.flush()


def paint_first_prompt(hmp: bool, stdin: TextIO, stdout: TextIO,
                       env: Mapping[str, str] | None = None, *,
                       agent: bool = False) -> FirstPrompt | None:
    """The painted prompt for this mode, or None (see :meth:`FirstPrompt.paint`)."""
    return FirstPrompt.paint(mode_prompt(hmp=hmp, agent=agent), stdin, stdout,
                             os.environ if env is None else env)


def mode_prompt(*, hmp: bool, agent: bool) -> str:
    """The prompt of a mode: QMP, HMP or the guest agent."""
    return PROMPT_AGENT if agent else PROMPT_HMP if hmp else PROMPT


def handover_input(first: FirstPrompt | None) -> Any:
    """prompt_toolkit's terminal input that gives the terminal back the
    moment prompt_toolkit takes it (None without a painted prompt: the
    default input)."""
    if first is None:
        return None
    import sys

    from prompt_toolkit.input.vt100 import Vt100Input

    release = first.release

    class HandoverInput(Vt100Input):
        def raw_mode(self) -> Any:
            release()  # before prompt_toolkit saves the settings to restore
            return super().raw_mode()

    return HandoverInput(sys.stdin)
