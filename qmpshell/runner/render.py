"""Turning replies, errors, events and requests into text.

Pure: every function takes a message and returns the text to show; the
runner writes it wherever its output goes (stdout, or above the prompt).
Colour is decided once, by whoever builds the :class:`Renderer`.

Compact output is exactly ``json.dumps(message)`` on one line, so scripts
can read it back; pretty output is indented, events carry a readable time
and errors read as ``error: CLASS: description``.
"""

from __future__ import annotations

import json
from functools import cache

from qmpshell.jsonlimit import dumps
from qmpshell.records import Record
from qmpshell.secrets import mask_request
from qmpshell.settings import DEFAULT_STYLE
from qmpshell.terminaltext import visible

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing
if TYPE_CHECKING:
    from typing import Any

HMP_COMMAND = "human-monitor-command"

HIGHLIGHT_LIMIT = 1 << 20
"""Characters of JSON highlighted at most: a bigger reply is printed plain
(colouring 100 MB would take minutes and several times its size in memory)."""

BASE64_FIELDS = ("out-data", "err-data", "buf-b64")
"""Guest-agent reply members holding base64 (guest-exec-status, guest-file-read)."""


def compact(message: Any) -> str:
    """One line of JSON, as json.dumps writes it."""
    return dumps(message)


def indented(message: Any) -> str:
    """Indented JSON for people."""
    return json.dumps(message, indent=2)


def event_time(event: dict[str, Any]) -> str:
    """The event's timestamp as local date and time to the millisecond ('' if absent)."""
    stamp = event.get("timestamp")
    if not isinstance(stamp, dict):
        return ""
    from datetime import datetime  # pretty output only: not at every start-up

    try:
        when = datetime.fromtimestamp(stamp["seconds"] + stamp.get("microseconds", 0) / 1e6)
    except (KeyError, TypeError, ValueError, OverflowError, OSError):
        return ""
    return when.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def hmp_text(reply: dict[str, Any]) -> str | None:
    """The text of a human-monitor-command reply, None if it is not one
    (control characters shown, not obeyed: the text is the guest's)."""
    value = reply.get("return")
    if isinstance(value, str):
        return visible(value.replace("\r\n", "\n").rstrip("\n"))
    return None


def decode_base64_fields(value: Any) -> tuple[Any, list[tuple[str, str]]]:
    """A guest-agent return value with its base64 members (:data:`BASE64_FIELDS`)
    replaced by a note, and their decoded text (control characters shown, not
    obeyed: the text is the guest's).  Data that is not UTF-8 text stays base64."""
    if not isinstance(value, dict):
        return value, []
    import base64
    import binascii

    shown = dict(value)
    texts: list[tuple[str, str]] = []
    for key in BASE64_FIELDS:
        data = value.get(key)
        if not isinstance(data, str):
            continue
        try:
            text = base64.b64decode(data, validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            continue
        shown[key] = f"<{len(text.encode())} bytes, decoded below>"
        texts.append((key, visible(text.replace("\r\n", "\n"))))
    return shown, texts


class Renderer(Record):
    """Renders messages for one output: pretty or compact, coloured or plain."""

    __slots__ = ("pretty", "color", "style", "show_secrets", "vm")

    pretty: bool
    color: bool
    style: str
    show_secrets: bool
    """Requests (-v, -n) shown with their passwords (--show-secrets)."""
    vm: str | None
    """With several VMs, the one the messages came from: compact messages
    carry it as ``"vm": NAME`` (a QMP message never has that member), pretty
    events name it after their time."""

    def __init__(
        self,
        pretty: bool = False,
        color: bool = False,
        style: str = DEFAULT_STYLE,
        show_secrets: bool = False,
        vm: str | None = None,
    ) -> None:
        self.pretty = pretty
        self.color = color
        self.style = style
        self.show_secrets = show_secrets
        self.vm = vm

    def labelled(self, vm: str | None) -> Renderer:
        """This renderer for the messages of ``vm`` (None: no label)."""
        return self if vm == self.vm else self._replace(vm=vm)

    def reply(self, reply: dict[str, Any]) -> str:
        """A reply: ``{"return": ...}`` or an error."""
        if self.vm is not None and not self.pretty:
            return self._json({"vm": self.vm, **reply})
        error = reply.get("error")
        if self.pretty and isinstance(error, dict):
            return self.error(str(error.get("class", "")), str(error.get("desc", "")))
        if self.pretty and isinstance(reply.get("return"), dict):
            shown, texts = decode_base64_fields(reply["return"])
            if texts:
                blocks = [f"{key}:\n{text.rstrip(chr(10))}" for key, text in texts]
                return "\n".join([self._json({**reply, "return": shown}), *blocks])
        return self._json(reply)

    def hmp_reply(self, reply: dict[str, Any]) -> str:
        """A human-monitor-command reply: its text as text, errors as errors."""
        text = hmp_text(reply)
        if text is None:
            return self.reply(reply)
        if self.vm is not None and not self.pretty:
            return "\n".join(f"{self.vm}: {line}" for line in text.split("\n"))
        return text

    def event(self, event: dict[str, Any]) -> str:
        """An asynchronous event; pretty ones start with a readable time and the name."""
        if not self.pretty:
            return self._json(event if self.vm is None else {"vm": self.vm, **event})
        vm = f" [{self.vm}]" if self.vm is not None else ""
        header = visible(f"{event_time(event)} {event.get('event', '?')}{vm}".strip())
        data = event.get("data")
        body = "" if data is None else "\n" + self._json(data)
        return self._paint([("Token.Generic.Subheading", header)]) + body

    def request(self, request: dict[str, Any]) -> str:
        """A request as sent (for -v and --dry-run), secrets masked unless
        ``show_secrets``: a terminal's scrollback and a CI log are kept too."""
        shown = request if self.show_secrets else mask_request(request)
        if self.vm is not None and not self.pretty:
            shown = {"vm": self.vm, **shown}
        return self._json(shown)

    def error(self, error_class: str, desc: str) -> str:
        """An error as a person reads it (the server's words, control
        characters shown)."""
        return self._paint([("Token.Generic.Error", "error: "),
                            ("Token.Name.Exception",
                             f"{visible(error_class)}: " if error_class else ""),
                            ("Token.Generic.Error", visible(desc))])

    def text(self, text: str) -> str:
        """Plain text (.echo, help from a schema): never coloured, control
        characters shown."""
        return visible(text)

    def _json(self, message: Any) -> str:
        try:
            text = indented(message) if self.pretty else dumps(message)
        except RecursionError:  # deeper than the decoders let through: never
            return "(a message nested too deeply to show)"
        if not self.color or len(text) > HIGHLIGHT_LIMIT:
            return text
        return highlight_json(text, self.style)

    def _paint(self, parts: list[tuple[str, str]]) -> str:
        if not self.color:
            return "".join(text for _, text in parts)
        return paint(parts, self.style)


def highlight_json(text: str, style: str) -> str:
    """``text`` highlighted as JSON for a 256-colour terminal."""
    from pygments import highlight  # only when colour is on: keeps start-up cheap
    return str(highlight(text, _json_lexer(), _formatter(style))).rstrip("\n")


@cache
def _json_lexer() -> Any:
    from pygments.lexers.data import JsonLexer

    return JsonLexer()


def paint(parts: list[tuple[str, str]], style: str) -> str:
    """Text pieces coloured by pygments token names ('Token.Generic.Error')."""
    from pygments import format as pygments_format
    from pygments.token import string_to_tokentype

    tokens = [(string_to_tokentype(name), text) for name, text in parts if text]
    return str(pygments_format(tokens, _formatter(style))).rstrip("\n")


@cache
def _formatter(style: str) -> Any:
    """One formatter per style for the whole run: building one costs
    milliseconds (the style's table), using it microseconds."""
    from pygments.formatters.terminal256 import Terminal256Formatter
    from pygments.util import ClassNotFound

    try:
        return Terminal256Formatter(style=style)
    except ClassNotFound:
        return Terminal256Formatter(style=DEFAULT_STYLE)
