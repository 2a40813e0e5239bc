"""Lines redrawn in place on a terminal: progress lines, ``.watch`` snapshots.

A :class:`LiveArea` remembers how many lines it drew last and erases them
(cursor up, clear to the end of the screen) before drawing the next ones;
anything else printed meanwhile first clears the area, so output never
lands in the middle of a progress line.  Plain ANSI sequences that every
terminal qmpshell runs on understands (VT100: ``CSI A``, ``CSI J``); the
runner writes them only to a terminal it was handed (:class:`Terminal`),
never to a pipe.

:func:`mark_changes` finds what changed between two snapshots of a reply,
for ``.watch``.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from qmpshell.runner.tables import text_width

REVERSE, NORMAL = "\x1b[7m", "\x1b[27m"
"""How a changed value stands out: reverse video, which needs no colour
(NO_COLOR terminals show it too) and survives any pygments style."""

_WORD = re.compile(r"[\w.:/+-]")


@dataclass(frozen=True)
class Terminal:
    """A terminal the runner may redraw on (from cli or the prompt)."""

    write: Callable[[str], None]
    """Write raw text and flush it."""
    columns: Callable[[], int] = lambda: 80
    rows: Callable[[], int] = lambda: 24
    shares_output: bool = False
    """The runner's ordinary output goes to the same screen (the prompt, or
    a script whose stdout is this terminal too): ``.watch`` redraws its
    reply in place, and job status chatter folds into the progress lines."""
    in_place: bool = True
    """Lines are redrawn in place; False (``--progress`` into a file or a
    pipe): each new state is appended as plain lines, no escape sequences."""


class LiveArea:
    """The last lines of a terminal, redrawn in place."""

    def __init__(self, terminal: Terminal) -> None:
        self.terminal = terminal
        self._drawn = 0

    @property
    def drawn(self) -> int:
        return self._drawn

    def draw(self, lines: Sequence[str]) -> None:
        """Replace what the area shows by ``lines`` (each cut to the width, so
        none wraps and the count stays right); the cursor stays at the end."""
        width = max(10, self.terminal.columns())
        fitted = [fit(line, width - 1) for line in lines]
        if not self.terminal.in_place:
            if fitted:
                self.terminal.write("".join(line + "\n" for line in fitted))
            return
        self.terminal.write(self._erase() + "\n".join(fitted))
        self._drawn = len(fitted)

    def clear(self) -> None:
        """Erase the area (before other output, or at the end)."""
        if self._drawn:
            self.terminal.write(self._erase())
            self._drawn = 0

    def finish(self, lines: Sequence[str] = ()) -> None:
        """Erase the area and leave ``lines`` on the screen for good."""
        text = self._erase() + "".join(line + "\n" for line in lines)
        if text:
            self.terminal.write(text)
        self._drawn = 0

    def keep(self) -> None:
        """Leave what the area shows on the screen, and start below it."""
        if self._drawn:
            self.terminal.write("\n")
            self._drawn = 0

    def _erase(self) -> str:
        if not self._drawn:
            return ""
        return "\r" + "\x1b[A" * (self._drawn - 1) + "\x1b[J"


def fit(line: str, width: int) -> str:
    """``line`` cut to ``width`` columns; escape sequences (a highlight) are
    kept whole and do not count, and a cut highlight is switched off."""
    if "\x1b" not in line:
        if text_width(line) <= width:
            return line
        out, used = [], 0
        for ch in line:
            w = text_width(ch)
            if used + w > width:
                break
            out.append(ch)
            used += w
        return "".join(out)
    parts = re.split(r"(\x1b\[[0-9;]*m)", line)
    out, used, cut = [], 0, False
    for part in parts:
        if part.startswith("\x1b"):
            out.append(part)
            continue
        if cut:
            continue
        piece = fit(part, width - used)
        out.append(piece)
        used += text_width(piece)
        cut = len(piece) < len(part)
    return "".join(out) + ("\x1b[0m" if cut else "")


def mark_changes(before: Sequence[str], after: Sequence[str],
                 on: str = REVERSE, off: str = NORMAL) -> list[str]:
    """``after``'s lines with what differs from ``before`` wrapped in
    ``on``/``off``: within a changed line only the changed words (``"running":
    false`` shows ``false``), a new line whole."""
    marked = list(after)
    matcher = difflib.SequenceMatcher(a=list(before), b=list(after), autojunk=False)
    for tag, a0, a1, b0, b1 in matcher.get_opcodes():
        if tag == "equal":
            continue
        for i in range(b0, b1):
            j = a0 + (i - b0)
            old = before[j] if tag == "replace" and j < a1 else None
            marked[i] = _mark_line(old, after[i], on, off)
    return marked


def _mark_line(old: str | None, new: str, on: str, off: str) -> str:
    if old is None or not new.strip():
        return f"{on}{new}{off}" if new.strip() else new
    start = 0
    while start < min(len(old), len(new)) and old[start] == new[start]:
        start += 1
    end = 0
    while end < min(len(old), len(new)) - start and old[-1 - end] == new[-1 - end]:
        end += 1
    stop = len(new) - end
    while start > 0 and _WORD.match(new[start - 1]):  # whole words
        start -= 1
    while stop < len(new) and _WORD.match(new[stop]):
        stop += 1
    if stop <= start:
        return new  # only something removed: nothing to point at
    return new[:start] + on + new[start:stop] + off + new[stop:]
