"""Fuzzing what a line, a file or the server can put in front of the shell's
text paths: any text is masked, shown, parsed and rendered without an
exception other than a ParseError, in time linear in its length; a planted
secret never survives masking; nothing printed keeps a control character.
The number of examples grows under CI (tests/conftest.py's profile)."""

from __future__ import annotations

import contextlib
import json
from typing import Any

from helpers.secret_examples import HMP_EXAMPLES, QMP_EXAMPLES, SECRET
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qmpshell import jsonlimit
from qmpshell.errors import ParseError
from qmpshell.runner.render import Renderer
from qmpshell.schema.table import load_bundled_schema
from qmpshell.secrets import mask_hmp, mask_line, mask_value
from qmpshell.shorthand.parser import parse_line
from qmpshell.terminaltext import visible

BUNDLED = load_bundled_schema()
CONTROLS = "".join(chr(c) for c in (*range(0x20), 0x7F, *range(0x80, 0xA0))) + "\u202e"
ESCAPES = ["\x1b]0;PWNED\x07", "\x1b]52;c;ZWNobyBQV05FRA==\x07", "\x1b[2J", "\x9b31m", "\x1bP"]
WORDS = ["password=", "data=", "qom-type=secret", "command-line=", '"', "'", "{", "[", "]",
         "}", ";", "transaction(", ")", ".hmp ", "@vm ", "#", "=", ",", ",,", "\\", "-j",
         "set_password", "object_add", "secret,id=s", "qom-set", "change vnc password",
         "human-monitor-command", '{"execute": "x"', '"password": "x"', *ESCAPES]
HOSTILE_TEXT = st.lists(st.one_of(st.sampled_from(WORDS), st.text(max_size=20),
                                  st.text(alphabet=CONTROLS, max_size=5)),
                        max_size=25).map(" ".join)
LINES = [line for line, _ in QMP_EXAMPLES.values()] + [
    f".hmp {line}" for lines in HMP_EXAMPLES.values() for line in lines if "{" not in line]


def printable(text: str) -> bool:
    return not any(c in CONTROLS and c not in "\n\t" for c in text)


@given(HOSTILE_TEXT)
@settings(suppress_health_check=[HealthCheck.too_slow])
def test_any_line_is_masked_shown_parsed_and_rendered(line: str) -> None:
    for masked in (mask_line(line), mask_line(line, hmp=True), mask_hmp(line)):
        assert isinstance(masked, str)
    assert printable(visible(line))
    try:
        request = parse_line(line, BUNDLED, allow_unknown=True)
    except ParseError as error:
        assert printable(visible(str(error)))
    else:
        if request is not None:
            assert printable(Renderer(pretty=True).request(request))
    r = Renderer(pretty=True)
    for text in (r.hmp_reply({"return": line}), r.error(line, line), r.text(line),
                 r.event({"event": line, "data": {line: line}}),
                 r.reply({"error": {"class": line, "desc": line}})):
        assert printable(text)
    with contextlib.suppress(ValueError):
        jsonlimit.loads(line)


@given(st.sampled_from(LINES), HOSTILE_TEXT, HOSTILE_TEXT)
def test_a_planted_secret_never_survives_masking(line: str, before: str, after: str) -> None:
    """Noise after a secret-carrying line (a comment, more words) or a
    one-line transaction around it leaves the secret masked."""
    for text in (f"{line} {after.replace(SECRET, '')}",
                 f"@vm1 {line}",
                 f"transaction( {line.removeprefix('.hmp ')} )" if not line.startswith(".")
                 else line):
        if '"' in after or "'" in after or "\\" in after:
            continue  # an open quote in the noise may legitimately swallow the line
        assert SECRET not in mask_line(text), text
    del before


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet=CONTROLS + "ab\"\\", max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.sampled_from(["password", "data", "qom-type", "secret", "x", "event", *ESCAPES]),
        inner, max_size=3),
    max_leaves=12)


@given(JSON)
def test_any_message_is_masked_and_rendered(message: Any) -> None:
    masked = mask_value(message)
    json.dumps(masked)
    for pretty in (True, False):
        for color in (True, False):
            r = Renderer(pretty=pretty, color=color)
            wrapped = message if isinstance(message, dict) else {"return": message}
            text = r.reply(wrapped) + r.event(wrapped) + r.hmp_reply(wrapped)
            assert "\x07" not in text and "\x9b" not in text
