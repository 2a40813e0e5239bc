"""The one place where text from elsewhere meets the terminal.

Text that came from the server, the guest or a file (HMP output, error
descriptions, event names, help from a schema, diagnostics) may carry
control characters: an ESC sequence can retitle the terminal (OSC 0), fill
the clipboard (OSC 52) or clear the screen (CSI 2J).  :func:`visible` shows
them instead, as ``cat -v`` and ``less`` do (``ESC`` is ``^[``), so that
nothing qmpshell prints changes the terminal unless qmpshell meant it.
JSON output needs none of this: ``json.dumps`` escapes control characters.
"""

from __future__ import annotations

import re
from functools import cache

# Compiled on first use (re's cache), not at import time.
_CONTROL = "[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]"
"""C0 controls but tab and newline, DEL, C1 controls (0x9b is CSI on
terminals that honour 8-bit controls), and the bidirectional overrides that
make text read differently from what it is."""


@cache
def _table() -> dict[int, str]:
    table = {code: "^" + chr(code + 64) for code in range(0x20)}
    table[0x7F] = "^?"
    table.update({code: f"\\u{code:04x}" for code in range(0x80, 0xA0)})
    table.update({code: f"\\u{code:04x}" for code in (*range(0x202A, 0x202F),
                                                      *range(0x2066, 0x206A))})
    del table[ord("\n")], table[ord("\t")]
    return table


def visible(text: str) -> str:
    """``text`` with every control character shown (``ESC`` as ``^[``, CSI
    0x9b as ``\\u009b``); newline and tab stay as they are.  Linear in the
    length of ``text``; text without controls is returned as it is."""
    if re.search(_CONTROL, text) is None:
        return text
    return text.translate(_table())


def visible_line(text: str) -> str:
    """One line for a diagnostic: :func:`visible`, with newlines and tabs
    shown too (``^J``, ``^I``) so a message cannot fake a second one."""
    return visible(text).replace("\n", "^J").replace("\t", "^I")
