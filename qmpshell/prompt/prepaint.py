"""The prompt painted the moment the connection is up.

Importing prompt_toolkit and pygments, reading the schema and building the
prompt take a few hundred milliseconds on a slow machine, far longer than
QEMU's own ``qmp-shell`` needs to show its prompt.  So at a terminal the shell
writes ``(QEMU) `` as soon as it is connected, with the terminal's echo, line
editing and signal keys off, so that the kernel neither echoes nor edits
the keys typed meanwhile, Ctrl-C included.  A thread reads them as they
come and shows the plain text at once after the painted prompt
(:class:`EarlyKeys`), as a line editor would.  When prompt_toolkit takes
the terminal, the thread stops, the settings come back, the painted line
is cleared, and prompt_toolkit draws the same prompt in its place and gets
the keys read so far as typeahead, ahead of those still queued, as if they
had been typed at it: Ctrl-C means what it means at the prompt.

Should the start-up take longer than :data:`HOLD` (a server slow to
describe itself), the terminal's settings come back early, so that Ctrl-C
interrupts a start-up that hangs, as it always did.  Standard library only:
this runs before the heavy imports.
"""

from __future__ import annotations

import contextlib
import os
import select
import threading
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


def quiet_settings(saved: list[Any], *, signals: bool) -> list[Any]:
    """The terminal settings ``saved`` with the terminal's echo and line
    editing off, so keys typed wait as typed, one at a time (and its
    signal keys, unless ``signals``: Ctrl-C is then a key like others)."""
    import termios

    quiet = [*saved[:6], list(saved[6])]
    quiet[3] = saved[3] & ~(termios.ECHO | termios.ICANON | (0 if signals else termios.ISIG))
    quiet[6][termios.VMIN], quiet[6][termios.VTIME] = 1, 0
    return quiet


class EarlyKeys:
    """Keys typed at the painted prompt, read as they come until
    :meth:`stop`, their plain text shown at once after the prompt: printable
    ASCII (Backspace takes back what was shown), up to the end of the
    terminal's line.  The first other key (Tab, Enter, an arrow, a paste)
    ends the showing; the keys are all kept for prompt_toolkit, which
    draws the line anew."""

    def __init__(self, fd: int, out_fd: int, room: int) -> None:
        self._fd = fd
        self._out_fd = out_fd
        self._room = room
        self._shown = 0
        self._showing = True
        self._typed = bytearray()
        self._wake_r, self._wake_w = os.pipe()
        self._thread = threading.Thread(target=self._read, name="early-keys", daemon=True)
        self._thread.start()

    def _read(self) -> None:
        while True:
            try:
                ready, _, _ = select.select([self._fd, self._wake_r], [], [])
                if self._wake_r in ready:
                    return
                chunk = os.read(self._fd, 1024)
            except (OSError, ValueError):
                return
            if not chunk:
                return
            self._typed += chunk
            self._show(chunk)

    def _show(self, chunk: bytes) -> None:
        if not self._showing:
            return
        echo = bytearray()
        for byte in chunk:
            if 0x20 <= byte < 0x7F and self._shown < self._room:
                echo.append(byte)
                self._shown += 1
            elif byte == 0x7F and self._shown:  # Backspace
                echo += b"\b \b"
                self._shown -= 1
            else:
                self._showing = False
                break
        if echo:
            with contextlib.suppress(OSError):
                os.write(self._out_fd, echo)

    def stop(self) -> bytes:
        """End the reading (keys typed from now on wait in the terminal's
        queue) and return what was read; once, then b""."""
        if self._wake_w < 0:
            return b""
        os.write(self._wake_w, b"!")
        self._thread.join()
        for fd in (self._wake_r, self._wake_w):
            os.close(fd)
        self._wake_r = self._wake_w = -1
        typed, self._typed = bytes(self._typed), bytearray()
        return typed


class FirstPrompt:
    """A painted prompt and the terminal settings to give back (see module doc)."""

    def __init__(self, fd: int, saved: list[Any], out: TextIO) -> None:
        self._fd = fd
        self._saved = saved
        self._out = out
        self._timer: Any = None
        self._keys: EarlyKeys | None = None
        self._typed = b""
        self.quiet = True
        self.released = False

    def take_typed(self) -> bytes:
        """The keys typed at the painted prompt and read since (see
        :class:`EarlyKeys`); the reading ends here.  Once, then b""."""
        self._stop_reading()
        typed, self._typed = self._typed, b""
        return typed

    def _stop_reading(self) -> None:
        if self._keys is not None:
            self._typed += self._keys.stop()
            self._keys = None

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
            termios.tcsetattr(fd, termios.TCSANOW,  # TCSANOW: typed keys stay
                              quiet_settings(saved, signals=False))
        except (ImportError, OSError, ValueError):
            return None
        first = cls(fd, saved, stdout)
        try:
            stdout.write(BRACKETED_PASTE_ON + text)
            stdout.flush()
            out_fd = stdout.fileno()
            columns = os.get_terminal_size(out_fd).columns or 80  # 0: a size never set
            room = columns - len(text) - 1
            first._keys = EarlyKeys(fd, out_fd, room)
        except (OSError, ValueError):
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
        self._stop_reading()  # what it read waits for take_typed()
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
    moment prompt_toolkit takes it, the keys typed at the painted prompt
    first (None without a painted prompt: the default input)."""
    if first is None:
        return None
    import sys

    from prompt_toolkit.input.typeahead import store_typeahead
    from prompt_toolkit.input.vt100 import Vt100Input
    from prompt_toolkit.key_binding import KeyPress

    release, take_typed = first.release, first.take_typed

    class HandoverInput(Vt100Input):
        adopted = False

        def typeahead_hash(self) -> str:
            # Asked just before prompt_toolkit reads its typeahead, then the
            # terminal: the keys already read go first, parsed as its own
            # parser parses keys (a paste that goes on goes on there).
            if not self.adopted:
                self.adopted = True
                typed = take_typed()
                if typed:
                    keys: list[KeyPress] = []
                    parser = self.vt100_parser
                    callback, parser.feed_key_callback = parser.feed_key_callback, keys.append
                    try:
                        parser.feed(typed.decode("utf-8", "surrogateescape"))
                    finally:
                        parser.feed_key_callback = callback
                    store_typeahead(self, keys)
            return super().typeahead_hash()

        def raw_mode(self) -> Any:
            release()  # before prompt_toolkit saves the settings to restore
            return super().raw_mode()

    return HandoverInput(sys.stdin)
