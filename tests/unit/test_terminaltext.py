"""Text from the server, the guest or a file reaches the terminal with its
control characters shown, never obeyed: one function, and every sink uses it."""

from __future__ import annotations

import json
import re

from qmpshell.errors import QMPError
from qmpshell.runner.render import Renderer
from qmpshell.terminaltext import visible, visible_line

OSC_TITLE = "\x1b]0;PWNED\x07"
OSC_CLIPBOARD = "\x1b]52;c;ZWNobyBQV05FRA==\x07"
CLEAR = "\x1b[2J"
HOSTILE = f"vm{OSC_TITLE}{OSC_CLIPBOARD}{CLEAR}\x9b31m\u202eend"


def no_controls(text: str) -> bool:
    return not any(ord(c) < 0x20 and c not in "\n\t" or 0x7F <= ord(c) <= 0x9F
                   or c == "\u202e" for c in text)


def test_escape_is_shown_as_cat_v_does() -> None:
    assert visible("a\x1b[2Jb") == "a^[[2Jb"
    assert visible("\x07\x00\x7f\r") == "^G^@^?^M"
    assert visible("csi\x9b1m") == "csi\\u009b1m"
    assert visible("\u202eevil") == "\\u202eevil"


def test_newline_and_tab_stay_where_they_belong() -> None:
    assert visible("a\n\tb") == "a\n\tb"
    assert visible_line("a\n\tb\x1b") == "a^J^Ib^["


def test_ordinary_text_is_returned_unchanged() -> None:
    text = "Device 'scratch' (été, 日本) not found"
    assert visible(text) is text


def test_every_control_character_is_made_visible() -> None:
    every = "".join(chr(c) for c in range(0x100))
    assert no_controls(visible(every))


def test_hmp_text_shows_escapes() -> None:
    text = Renderer(pretty=True).hmp_reply({"return": f"{HOSTILE}\r\n"})
    assert "\x1b" not in text and no_controls(text)
    assert text.startswith("vm^[]0;PWNED^G")


def test_qmp_error_desc_and_class_show_escapes() -> None:
    for pretty in (True, False):
        for color in (True, False):
            r = Renderer(pretty=pretty, color=color)
            text = r.reply({"error": {"class": f"Generic{CLEAR}", "desc": HOSTILE}})
            assert no_controls(re.sub(r"\x1b\[[0-9;]*m", "", text))  # colours are ours


def test_event_names_show_escapes() -> None:
    event = {"event": f"STOP{OSC_TITLE}", "data": {"x": HOSTILE},
             "timestamp": {"seconds": 1, "microseconds": 0}}
    pretty = Renderer(pretty=True).event(event)
    assert no_controls(pretty) and "STOP^[]0;PWNED^G" in pretty
    compact = Renderer(pretty=False).event(event)
    assert compact == json.dumps(event) and no_controls(compact)


def test_json_output_stays_escaped_as_json() -> None:
    reply = {"return": {"name": HOSTILE}}
    for pretty in (True, False):
        text = Renderer(pretty=pretty).reply(reply)
        assert json.loads(text) == reply and no_controls(text)


def test_help_and_echo_text_show_escapes() -> None:
    assert Renderer().text(f"doc {CLEAR}") == "doc ^[[2J"


def test_cli_diagnostics_show_escapes() -> None:
    from qmpshell.cli.main import diagnostic

    text = diagnostic(QMPError("DeviceNotFound", f"Device '{HOSTILE}' not found"), "f.qmp:3")
    assert no_controls(text) and text.startswith("f.qmp:3: error: DeviceNotFound: Device 'vm^[")


def test_completion_menu_shows_escapes() -> None:
    from qmpshell.prompt.completion import Candidate, _completion

    completion = _completion(Candidate(f"dev{CLEAR}", meta=f"block {OSC_TITLE}"), "d")
    assert completion.text == f"dev{CLEAR}"  # what is inserted is the server's name
    assert completion.display_text == "dev^[[2J"
    assert completion.display_meta_text == "block ^[]0;PWNED^G"


def test_messages_at_the_prompt_show_escapes() -> None:
    from types import SimpleNamespace

    from qmpshell.prompt.app import Repl

    written: list[str] = []
    repl = SimpleNamespace(settings=SimpleNamespace(color=True), events_view=None,
                           emit=written.append)
    Repl.print(repl, f"connection lost: {HOSTILE}", "31")  # type: ignore[arg-type]
    [text] = written
    assert text.startswith("\x1b[31m") and text.endswith("\x1b[0m")
    assert no_controls(text[len("\x1b[31m"):-len("\x1b[0m")])


def test_a_huge_reply_is_printed_plain_not_coloured_for_minutes() -> None:
    from qmpshell.runner.render import HIGHLIGHT_LIMIT

    reply = {"return": "x" * (HIGHLIGHT_LIMIT + 1)}
    assert Renderer(pretty=False, color=True).reply(reply) == json.dumps(reply)
    small = Renderer(pretty=False, color=True).reply({"return": "x"})
    assert "\x1b[" in small


def test_debug_notes_show_escapes() -> None:
    import io
    import logging

    from qmpshell import debug

    stream = io.StringIO()
    debug.enable(stream)
    try:
        debug.note("schema", "the server said %s", HOSTILE)
    finally:
        logging.getLogger(debug.LOGGER).handlers[:] = []
    assert no_controls(stream.getvalue()) and "^[]0;PWNED^G" in stream.getvalue()
