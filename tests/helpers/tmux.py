"""A private tmux server running one program, typed at as a person types:
keys in bursts (one ``send-keys`` call), pastes with bracketed paste, and the
screen read back with ``capture-pane`` until the expected text shows or a
deadline passes."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

DEADLINE = 20.0


def have_tmux() -> bool:
    return shutil.which("tmux") is not None


class Tmux:
    """One tmux server on a socket in ``workdir``, one window running ``argv``
    at ``columns`` x ``rows``.  :meth:`close` kills the server."""

    def __init__(self, workdir: Path, argv: Sequence[str], env: Mapping[str, str],
                 columns: int = 80, rows: int = 24) -> None:
        self.socket = workdir / "tmux.sock"
        command = "exec env -i " + shlex.join(
            [f"{k}={v}" for k, v in env.items()] + list(argv))
        self._tmux("-f", "/dev/null", "new-session", "-d", "-x", str(columns),
                   "-y", str(rows), command)
        self._tmux("set-option", "-g", "remain-on-exit", "on")

    def _tmux(self, *args: str, input: str | None = None) -> str:
        done = subprocess.run(["tmux", "-S", str(self.socket), *args], input=input,
                              capture_output=True, text=True, timeout=DEADLINE, check=True)
        return done.stdout

    def close(self) -> None:
        subprocess.run(["tmux", "-S", str(self.socket), "kill-server"],
                       capture_output=True, timeout=DEADLINE, check=False)

    # -- typing ------------------------------------------------------------
    def keys(self, *keys: str) -> None:
        """Send ``keys`` in ONE send-keys call (tmux key names: 'Tab',
        'Enter', 'C-u'; other words are typed as text)."""
        self._tmux("send-keys", *keys)

    def type(self, text: str) -> None:
        """Type ``text`` literally (no key names), in one burst."""
        self._tmux("send-keys", "-l", text)

    def paste(self, text: str) -> None:
        """Paste ``text`` as a terminal does, with bracketed paste when the
        program asked for it (newlines arrive as Enter, CR)."""
        self._tmux("load-buffer", "-b", "paste", "-", input=text)
        self._tmux("paste-buffer", "-p", "-d", "-b", "paste")

    # -- reading -------------------------------------------------------------
    def screen(self) -> list[str]:
        return self._tmux("capture-pane", "-p", "-J").splitlines()

    def everything(self) -> list[str]:
        """The screen with all that scrolled off it."""
        return self._tmux("capture-pane", "-p", "-J", "-S", "-").splitlines()

    def cursor(self) -> tuple[int, int]:
        """(column, row) of the cursor."""
        x, y = self._tmux("display-message", "-p", "#{cursor_x} #{cursor_y}").split()
        return int(x), int(y)

    def input_line(self) -> str:
        """The screen line the cursor is on, up to the cursor (what is typed
        before it, trailing spaces included)."""
        lines = self._tmux("capture-pane", "-p", "-N").split("\n")
        x, y = self.cursor()
        return (lines[y] if y < len(lines) else "")[:x].ljust(x)

    def menu(self) -> list[str]:
        """The screen lines under the cursor's (a completion menu), the
        toolbar's last line left out."""
        lines = self._tmux("capture-pane", "-p").split("\n")  # rows as the cursor counts them
        return lines[self.cursor()[1] + 1:-2]

    def wait_menu(self, text: str, deadline: float = DEADLINE) -> None:
        self.wait_for(lambda: any(text in line for line in self.menu()),
                      f"{text!r} in the menu", deadline)

    def styled_input_line(self) -> str:
        """The cursor's screen line with its styles as escape sequences."""
        lines = self._tmux("capture-pane", "-p", "-e").split("\n")
        return lines[self.cursor()[1]]

    def wait_for(self, check: Callable[[], bool], what: str,
                 deadline: float = DEADLINE) -> None:
        """Read the screen until ``check()`` holds; fail with the screen
        after ``deadline`` seconds."""
        end = time.monotonic() + deadline
        while not check():
            if time.monotonic() > end:
                screen = "\n".join(self.screen())
                raise AssertionError(f"{what} did not show within {deadline:g} s:\n{screen}")
            time.sleep(0.02)

    def wait_text(self, text: str, deadline: float = DEADLINE) -> None:
        self.wait_for(lambda: any(text in line for line in self.screen()),
                      repr(text), deadline)

    def wait_line(self, text: str, deadline: float = DEADLINE) -> None:
        """Until the input line, up to the cursor, is ``text``."""
        self.wait_for(lambda: self.input_line() == text, f"input line {text!r}", deadline)

    def count(self, text: str) -> int:
        """How often ``text`` shows, scrolled-off lines included."""
        return sum(line.count(text) for line in self.everything())
