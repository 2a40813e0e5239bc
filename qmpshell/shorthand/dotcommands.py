"""The shell's own dot-commands (``.wait``, ``.sleep`` ...): the one registry.

Dot-commands belong to the shell, never to QEMU.  :data:`DOT_COMMANDS` says,
for each, its usage and one-line help, where it may run (at the prompt, in
scripts), whether a recording replays it, how its arguments are parsed and
what completes them.  Help, completion, the toolbar, the recorder, the
runner, the prompt and the man page all read it; the handlers that carry the
commands out are bound by the runner (and by the prompt, for the ones only
a person at the terminal can use).
"""

import json
import math
import os
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, NamedTuple

from qmpshell.errors import ParseError
from qmpshell.schema.model import Schema, suggest
from qmpshell.settings import split_named
from qmpshell.shorthand.literals import LiteralError
from qmpshell.shorthand.words import scan, strip_comment, unquote

FORMATS = ("table", "json")

Slot = str | tuple[str, ...]
"""What completes one argument: 'command', 'event', 'file', 'hmp-command' (the
server's HMP commands), 'vm' (the names of the connections), or fixed words."""


class DotSpec(NamedTuple):
    """One dot-command, as every part of the shell knows it."""

    name: str
    """With its dot: ``.wait``."""
    usage: str
    """``.wait EVENT [timeout=S] [key=value...]``."""
    help: str
    """What it does, in one line (a note after '; ' when there is more to say)."""
    parse: Callable[[str], Any]
    """Its arguments (the text after the name, comment dropped) to a value;
    ParseError when they are wrong."""
    at_prompt: bool = True
    in_scripts: bool = True
    replayed: bool = False
    """Written to recordings: it changes what a replay does."""
    completes: tuple[Slot, ...] = ()
    """What completes each argument, in order."""

    @property
    def summary(self) -> str:
        """The help line with the usage: ``wait for an event: .wait EVENT ...``."""
        what, _, note = self.help.partition("; ")
        line = f"{what}: {self.usage}" if " " in self.usage else what
        return f"{line}; {note}" if note else line


class DotCommand(NamedTuple):
    """A dot-command line: its name (without the dot) and what follows."""

    name: str
    rest: str = ""

    @property
    def spec(self) -> DotSpec:
        found = dot_command("." + self.name)
        if found is None:
            raise ParseError(unknown_dot_command("." + self.name))
        return found

    def arguments(self) -> Any:
        """The arguments, parsed by the registry's parser for this command."""
        return self.spec.parse(self.rest)


class WaitSpec(NamedTuple):
    """``.wait EVENT [timeout=S] [key=value ...]``."""

    event: str
    timeout: float | None = None
    match: Mapping[str, str] = MappingProxyType({})

    def matches(self, event: dict[str, Any]) -> bool:
        """True when ``event`` has this name and every key=value (dotted keys
        reach into nested data; values compare as they would be typed)."""
        if str(event.get("event", "")).upper() != self.event.upper():
            return False
        data = event.get("data", {})
        return all(_as_typed(_lookup(data, key)) == value for key, value in self.match.items())


def check_wait(spec: WaitSpec, schema: Schema | None) -> WaitSpec:
    """``spec`` when the schema knows its event and the keys it filters on
    (a mistyped name would wait for ever); ParseError with a suggestion
    otherwise.  Without events in the schema there is nothing to check."""
    if schema is None or not schema.events:
        return spec
    names = {name.upper(): name for name in schema.events}
    name = names.get(spec.event.upper())
    if name is None:
        close = suggest(spec.event.upper(), names.values(), limit=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ParseError(f".wait: unknown event {spec.event!r}{hint}")
    args_type = schema.events[name].args_type
    for key in spec.match:
        _check_wait_key(schema, name, args_type, key)
    return spec


def _check_wait_key(schema: Schema, event: str, type_name: str, key: str) -> None:
    """A dotted ``key`` must name a member of the event's data."""
    for depth, part in enumerate(key.split(".")):
        info = schema.resolve(type_name) if type_name else None
        if info is None or info.kind != "object" or (info.open and not info.members):
            if depth == 0 and not type_name:
                raise ParseError(f".wait: {event} carries no data to match {key}= against")
            return  # free-form data: anything may be in it
        members = {m.name: m for m in schema.members_for(type_name, {})}
        if depth == 0 and not members:
            raise ParseError(f".wait: {event} carries no data to match {key}= against")
        member = members.get(part)
        if member is None:
            close = suggest(part, members, limit=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            known = ", ".join(members) or "none"
            raise ParseError(f".wait: {event} has no {'.'.join(key.split('.')[:depth + 1])!r}"
                             f"{hint}; its data: {known}")
        type_name = member.type


def dot_command(name: str) -> DotSpec | None:
    """The registry's entry for ``name`` (with its dot), None when unknown."""
    return next((spec for spec in DOT_COMMANDS if spec.name == name), None)


def dot_names() -> list[str]:
    return [spec.name for spec in DOT_COMMANDS]


def unknown_dot_command(name: str) -> str:
    """The message for a name that is no dot-command, with the closest one."""
    names = dot_names()
    close = suggest(name, names, 1)
    hint = f" (did you mean {close[0]}?)" if close else f" (known: {', '.join(names)})"
    return f"unknown dot-command {name}{hint}"


def parse_dot(line: str) -> DotCommand:
    """Split ``.name rest`` (a ``#`` comment dropped, as on any line); unknown
    names are a ParseError with suggestions."""
    text = line.strip()
    name, *rest = text.split(None, 1)
    if dot_command(name) is None:
        raise ParseError(unknown_dot_command(name), 1, line)
    return DotCommand(name[1:], strip_comment(rest[0] if rest else "").strip())


def parse_text(rest: str) -> str:
    """Arguments taken as they are typed (``.echo``, ``.help``)."""
    return rest


def parse_hmp(rest: str) -> str:
    """The monitor command line of ``.hmp``."""
    if not rest:
        raise ParseError(".hmp needs a monitor command, e.g. .hmp info status")
    return rest


def parse_pager(rest: str) -> bool | None:
    """``.pager on|off``: True or False; None (nothing given) shows the state."""
    words = _split(rest)
    if not words:
        return None
    if len(words) > 1 or words[0] not in ("on", "off"):
        raise ParseError(".pager takes on or off: .pager on|off")
    return words[0] == "on"


def parse_connect(rest: str) -> str | None:
    """``.connect [[NAME=]ADDRESS]``: what to connect to (a VM's name alone
    reconnects it), None for the current VM again."""
    words = _split(rest)
    if len(words) > 1:
        raise ParseError(".connect takes one ADDRESS: .connect [[NAME=]ADDRESS]")
    if not words:
        return None
    name, address = split_named(words[0])
    address = os.path.expanduser(address)
    return f"{name}={address}" if name else address


def parse_vm(name: str) -> Callable[[str], str]:
    """The parser of the VM name of ``.use`` and ``.disconnect``."""
    def parse(rest: str) -> str:
        words = _split(rest)
        if len(words) != 1:
            raise ParseError(f"{name} takes one VM name: {name} NAME (.vms lists them)")
        return words[0]
    return parse


def parse_wait(rest: str) -> WaitSpec:
    """The arguments of ``.wait``."""
    words = _split(rest)
    if not words or "=" in words[0]:
        raise ParseError(".wait needs an event name: .wait EVENT [timeout=S] [key=value ...]")
    timeout: float | None = None
    match: dict[str, str] = {}
    for word in words[1:]:
        key, sep, value = word.partition("=")
        if not sep or not key:
            raise ParseError(f".wait: expected key=value, got {word!r}")
        if key == "timeout":
            timeout = parse_seconds(value, ".wait timeout")
        elif key in match:
            raise ParseError(f".wait: duplicate key {key!r}")
        else:
            match[key] = value
    return WaitSpec(words[0], timeout, match)


class RecordSpec(NamedTuple):
    """``.record`` (status), ``.record FILE`` or ``.record off``."""

    path: str | None = None
    off: bool = False


def parse_record(rest: str) -> RecordSpec:
    """The argument of ``.record``: a file name (quotes for spaces), ``off`` or nothing."""
    words = _split(rest)
    if len(words) > 1:
        raise ParseError(".record takes one FILE, or off: .record FILE|off")
    if not words:
        return RecordSpec()
    if words[0] == "off":
        return RecordSpec(off=True)
    return RecordSpec(path=os.path.expanduser(words[0]))


class SchemaSpec(NamedTuple):
    """``.schema`` (where the schema came from) or ``.schema save FILE``."""

    save_to: str | None = None


def parse_schema(rest: str) -> SchemaSpec:
    """The arguments of ``.schema``."""
    words = _split(rest)
    if not words:
        return SchemaSpec()
    if words[0] != "save" or len(words) != 2:
        raise ParseError(".schema takes nothing, or save FILE: .schema save FILE")
    return SchemaSpec(save_to=os.path.expanduser(words[1]))


class WatchSpec:
    """``.watch LINE [every=SECONDS] [count=N] [timeout=SECONDS]``."""

    __slots__ = ("line", "every", "count", "timeout")

    def __init__(self, line: str, every: float = 1.0, count: int | None = None,
                 timeout: float | None = None) -> None:
        self.line, self.every, self.count, self.timeout = line, every, count, timeout

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, WatchSpec):
            return NotImplemented
        return ((self.line, self.every, self.count, self.timeout)
                == (other.line, other.every, other.count, other.timeout))

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (f"WatchSpec(line={self.line!r}, every={self.every!r}, count={self.count!r}, "
                f"timeout={self.timeout!r})")


def parse_watch(rest: str) -> WatchSpec:
    """The arguments of ``.watch``: the line to run, then its own options
    (``every=``, ``count=``, ``timeout=``) at the end."""
    import re

    line, options = " " + strip_comment(rest), {}
    while (found := re.search(r"\s+(every|count|timeout)=(\S*)\s*$", line)) is not None:
        key, value = found.group(1), found.group(2)
        if key in options:
            raise ParseError(f".watch: {key}= given twice")
        options[key] = value
        line = line[:found.start()]
    line = line.strip()
    if not line:
        raise ParseError(".watch needs a query to run: .watch LINE [every=SECONDS] [count=N]")
    if line.startswith("."):
        raise ParseError(".watch runs a QMP command, not a dot-command")
    every = parse_seconds(options.get("every", "1"), ".watch every")
    if every < 0.1:
        raise ParseError(".watch every: at least 0.1 seconds")
    count = None
    if "count" in options:
        try:
            count = int(options["count"])
        except ValueError:
            count = 0
        if count < 1:
            raise ParseError(f".watch count: expected a positive whole number, "
                             f"got {options['count']!r}")
    timeout = (parse_seconds(options["timeout"], ".watch timeout")
               if "timeout" in options else None)
    return WatchSpec(line, every, count, timeout)


def parse_format(rest: str) -> str | None:
    """The argument of ``.format``: ``table``, ``json``, or nothing (show it)."""
    words = _split(rest)
    if not words:
        return None
    if len(words) > 1 or words[0] not in FORMATS:
        raise ParseError(".format takes table or json: .format table|json")
    return words[0]


def parse_nothing(name: str) -> Callable[[str], None]:
    """The parser of a dot-command that takes no arguments."""
    def parse(rest: str) -> None:
        if rest.strip():
            raise ParseError(f"{name} takes no arguments")
    return parse


def parse_seconds(text: str, what: str = ".sleep") -> float:
    """A non-negative number of seconds."""
    try:
        seconds = float(text)
    except ValueError:
        raise ParseError(f"{what}: expected a number of seconds, got {text!r}") from None
    if seconds < 0 or not math.isfinite(seconds):
        raise ParseError(f"{what}: expected a number of seconds, got {text!r}")
    return seconds


def _split(text: str) -> list[str]:
    """The words of a dot-command's arguments, read as every line is (see
    :mod:`qmpshell.shorthand.words`), quotes removed: ``.record "a b.qmp"``."""
    scanned = scan(text)
    if scanned.problem is not None:
        raise ParseError(scanned.problem.message)
    try:
        return [unquote(word)[0] for word in scanned.words]
    except LiteralError as error:
        raise ParseError(error.message) from None


_MISSING = object()


def _lookup(data: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        if not isinstance(data, dict) or part not in data:
            return _MISSING
        data = data[part]
    return data


def _as_typed(value: Any) -> str | None:
    """A JSON value as a person types it: strings bare, the rest as JSON."""
    if value is _MISSING:
        return None
    if isinstance(value, str):
        return value
    return json.dumps(value)


DOT_COMMANDS: tuple[DotSpec, ...] = (
    DotSpec(".help", ".help [CMD]", "list commands, or show one", parse_text,
            completes=("command",)),
    DotSpec(".wait", ".wait EVENT [timeout=S] [key=value...]",
            "wait for an event; without timeout=, --timeout or else 60 s in scripts, "
            "until Ctrl-C at the prompt", parse_wait, replayed=True, completes=("event",)),
    DotSpec(".sleep", ".sleep SECONDS", "pause", parse_seconds, replayed=True),
    DotSpec(".echo", ".echo TEXT", "print a line of text", parse_text, replayed=True),
    DotSpec(".hmp", ".hmp LINE", "run one HMP command", parse_hmp, replayed=True,
            completes=("hmp-command",)),
    DotSpec(".quit", ".quit", "leave the shell", parse_text),
    DotSpec(".connect", ".connect [[NAME=]ADDRESS]",
            "connect to one more VM, or reconnect one; without ADDRESS, the current VM "
            "again", parse_connect, replayed=True, completes=("file",)),
    DotSpec(".disconnect", ".disconnect NAME", "close one VM's connection", parse_vm(".disconnect"),
            replayed=True, completes=("vm",)),
    DotSpec(".use", ".use NAME", "send plain lines to another VM (@NAME line: one line)",
            parse_vm(".use"), replayed=True, completes=("vm",)),
    DotSpec(".vms", ".vms", "list the connections: name, kind, QEMU version, state",
            parse_nothing(".vms")),
    DotSpec(".pager", ".pager [on|off]",
            "replies taller than the terminal through $PAGER (else less)", parse_pager,
            in_scripts=False, completes=(("on", "off"),)),
    DotSpec(".events", ".events", "show the events folded at the prompt because they "
            "came faster than anyone reads", parse_nothing(".events"), in_scripts=False),
    DotSpec(".record", ".record [FILE|off]", "append executed lines to a file",
            parse_record, completes=("file",)),
    DotSpec(".schema", ".schema [save FILE]", "where the schema came from, or save the server's",
            parse_schema, completes=(("save",), "file")),
    DotSpec(".watch", ".watch LINE [every=SECONDS] [count=N] [timeout=SECONDS]",
            "run a query again and again (every 1 s); at the prompt each reply replaces the "
            "last, changes highlighted, until Ctrl-C; in scripts each is printed, count= times "
            "or until timeout=, --timeout or 60 s", parse_watch, completes=("command",)),
    DotSpec(".jobs", ".jobs", "the running block jobs and migration, in one table",
            parse_nothing(".jobs")),
    DotSpec(".format", ".format [table|json]",
            "replies such as query-block and query-jobs as tables, or every reply as JSON",
            parse_format, completes=(FORMATS,)),
)
"""Every dot-command, in the order help lists them."""
