"""The runner: one line at a time, whatever its source.

The same :class:`Runner` serves ``-c``, session files, stdin and the
interactive prompt, so scripted and interactive use cannot drift apart.  It
never asks whether a person is typing: output goes to an injected ``out``
sink (one call per message, text without a trailing newline) and failures to
an injected ``report(error, where)``; the caller decides what those do.

API::

    runner = Runner(settings, parser=..., connection=conn_or_None,
                    out=print_text, report=show_error)
    ok = runner.run_line("stop", where="session.qmp:3")  # False: the line failed
    runner.run_line("quit", ask=ask_person)  # the prompt: ask before what stops the VM
    runner.run_lines(lines, name="session.qmp")  # numbered, honours -e and .quit
    runner.finish(where)          # end of input: an unterminated transaction( fails
    runner.in_transaction         # inside a multi-line transaction( (TRANS> prompt)
    runner.failed / runner.stopped / runner.where
    runner.drain_events()         # print the events that arrived while no line ran
    runner.start_recording(path)  # --record / .record FILE; runner.stop_recording()
    runner.use_schema(schema)     # a server's schema arrived (after .connect)
    runner.notice = print_note    # confirmations meant for a person (default: none)
    runner.terminal = Terminal(...)  # where live progress and .watch may redraw (default: none)
    runner.format = "table"       # .format: replies with a table view as tables

Recording (``--record``, ``.record``) writes what was executed: a request once
QEMU answered it, error replies included (a replay then sends the same
thing), and the dot-commands a replay needs once they ran (a ``.wait`` that
timed out too).  A line refused before anything was sent (it did not parse,
or named an unknown command) is not written; nor is a line abandoned with
Ctrl-C or cut short by a lost connection.  A multi-line ``transaction(`` is
written as one line when its ``)`` sends it.

Confirmation happens here, once, on what is about to be sent: after the
line was parsed, and for a multi-line ``transaction(`` when its ``)`` closes
it.  The caller hands in an ``ask`` callable (the prompt does; scripts do
not, and nothing is asked); ``--yes`` or ``confirm = false`` turns it off.
The table of what needs a yes is :mod:`qmpshell.runner.safety`.

It is synchronous and talks to any
:class:`~qmpshell.wire.connection.QmpConnection`: the prompt runs each line
in a worker thread and calls ``connection.interrupt()`` for Ctrl-C, which
ends the line with :class:`~qmpshell.wire.connection.Interrupted`.

Lines known before they run (a file, ``-c``, stdin read so far: an object
with ``following(N)``) are looked at ahead: while a
``query-*`` line runs, a connection that offers ``send_next`` (the blocking
driver) is told the plain queries that follow it (up to :data:`LOOK_AHEAD`)
and sends them before reading its reply; what is printed, and where ``-e``
stops, stay the same.

With ``connection=None`` it is a dry run: requests are printed, not sent.
Connection problems propagate as :class:`~qmpshell.errors.ConnectError`
(``runner.where`` tells which line was running); every other failure is
reported and the runner carries on (unless ``-e``).
"""

from __future__ import annotations

import collections
import re
import time
from collections.abc import Callable, Iterable

from qmpshell.debug import note
from qmpshell.errors import Caution, ConnectError, ParseError, QMPError, QmpShellError
from qmpshell.runner.fleet import (
    SEEN_EVENTS,
    ConnectionSet,
    Member,
    default_name,
    let_go_first,
    split_target,
    typed_target,
)
from qmpshell.runner.render import HMP_COMMAND, Renderer
from qmpshell.runner.replaysecrets import SecretSource, masked_secrets, unmask
from qmpshell.runner.safety import confirmation_prompt
from qmpshell.schema.features import deprecation_warnings
from qmpshell.schema.model import Schema
from qmpshell.settings import Settings, split_named
from qmpshell.wire.connection import QmpConnection

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing
if TYPE_CHECKING:
    from concurrent.futures import ThreadPoolExecutor
    from typing import Any, Literal, Protocol

    from qmpshell.runner.fanout import Capture
    from qmpshell.runner.live import Terminal
    from qmpshell.runner.recorder import Recorder
    from qmpshell.runner.watching import ProgressView, WatchView
    from qmpshell.shorthand.dotcommands import (
        DotCommand,
        RecordSpec,
        SchemaSpec,
        WaitSpec,
        WatchSpec,
    )
else:
    Protocol = object  # the structural type is mypy's; at run time a plain base

Sink = Callable[[str], None]
Report = Callable[[QmpShellError, "str | None"], None]
Ask = Callable[[str], bool]
"""Puts a yes/no question to a person; True for yes."""

EVENT_SLICE = 0.05
"""Seconds a wait on one VM lasts before the others' events are printed."""

LOOK_AHEAD = 4
"""Queries of a file sent at most ahead of the one whose reply is awaited:
four keep QEMU busy while the shell waits for the processor on a loaded
machine (one ahead gains less there; more gains nothing), and stay well
below the 8 requests QEMU queues per monitor (some older QEMUs dropped the
requests past it, with a COMMAND_DROPPED event)."""

MAX_TARGETED_PARSERS = 64
"""Schemas whose ``@VM`` parser is kept; past it they are all forgotten
(reconnections bring new schemas, the old ones need not live on)."""

_HELP_ASK = re.compile(r"^\s*(?P<name>[A-Za-z][\w-]*)?\s*\?\s*$")


class LineParser(Protocol):
    """What the runner needs of the shorthand parser."""

    @property
    def in_transaction(self) -> bool: ...

    def feed(self, line: str) -> dict[str, Any] | None: ...

    def reset(self) -> None: ...

    def use_schema(self, schema: Schema, *, allow_unknown: bool) -> None: ...


class Runner:
    """Executes lines: shorthand, raw JSON, HMP and dot-commands (see module doc)."""

    def __init__(self, settings: Settings, *, parser: LineParser, schema: Schema | None,
                 connection: QmpConnection | None, out: Sink, report: Report,
                 renderer: Renderer | None = None,
                 wait_timeout: float | None | Literal["settings"] = "settings",
                 name: str | None = None,
                 make_parser: Callable[[Schema], LineParser] | None = None) -> None:
        """``wait_timeout``: seconds a ``.wait`` without ``timeout=`` waits
        (None: until interrupted); by default ``--timeout``.  ``name``: the
        connection's name among several VMs (default: from its address).
        ``make_parser``: a parser typed by another VM's schema (``@VM``)."""
        self.settings = settings
        self.parser = parser
        self.schema = schema
        self.vms = ConnectionSet()
        """The connections, by name; plain lines go to the current one."""
        self.connector: Callable[[str], QmpConnection] | None = None
        """Connects to an address (``.connect`` in scripts)."""
        self.schema_of: Callable[[QmpConnection], Schema] | None = None
        """Reads a newly connected server's schema (``.connect`` in scripts)."""
        self._shared_schema = schema
        self._make_parser = make_parser
        self._pool: ThreadPoolExecutor | None = None
        self._label: str | None = None
        if connection is not None:
            self.attach(name or default_name(connection.name), connection, schema)
        self.out = out
        self.event_sink: Callable[[dict[str, Any], Callable[[], str]], None] | None = None
        """Where events go instead of ``out``, with how to render one (the
        prompt's paced view)."""
        self.report = report
        self.renderer = renderer or Renderer(settings.pretty, settings.color, settings.style,
                                             show_secrets=settings.show_secrets)
        self._request_renderer = Renderer(False, settings.color, settings.style,
                                          show_secrets=settings.show_secrets)
        self._labelled: tuple[Renderer, dict[str | None, Renderer]] = (self.renderer, {})
        """:attr:`renderer` for each VM's messages, made once (a line to 20
        VMs renders 20 replies)."""
        self._targeted_parsers: dict[int, tuple[Schema, LineParser]] = {}
        """A parser for ``@VM`` lines per schema (by id, the schema held so
        that its id is not reused): it remembers the lines it parsed, so a
        repeated ``@all query-status`` is not parsed again."""
        self.wait_timeout = settings.timeout if wait_timeout == "settings" else wait_timeout
        self.notice: Sink | None = None
        self.recheck_schema: Callable[[], Schema | None] | None = None
        """A script's cached schema not yet checked against the server's:
        returns the server's when it differs (None: the same), asked at the
        first line the schema refuses."""
        self.terminal: Terminal | None = None
        self.format = settings.format
        self._live: ProgressView | WatchView | None = None
        self.secrets: SecretSource | None = None
        """Where the values of a recording's masked secrets come from."""
        self.event_out: Sink | None = None
        """Where events go, when not with the replies (``out``)."""
        self.recorder: Recorder | None = None
        self.failed = False
        self.stopped = False
        self.where: str | None = None
        self._upcoming: Callable[[int], list[str]] | None = None
        """Up to N of the lines after the one running, of those already
        known (a file, -c, stdin read so far): a query may tell the
        connection to send them ahead."""
        self._number = 0
        """The number of the line running (1 for the first)."""
        self._announced = 0
        """The number of the last line announced to the connection."""
        self._own_seen: collections.deque[dict[str, Any]] = collections.deque(
            maxlen=SEEN_EVENTS)
        self._dropped_told: dict[int, int] = {}
        self._ask: Ask | None = None
        self._dot_handlers: dict[str, Callable[[DotCommand], bool]] = {
            ".help": lambda dot: self._help(dot.arguments()),
            ".wait": self._dot_wait,
            ".sleep": self._dot_sleep,
            ".echo": self._dot_echo,
            ".hmp": lambda dot: self._hmp(dot.arguments()),
            ".quit": self._dot_quit,
            ".connect": self._dot_vms,
            ".disconnect": self._dot_vms,
            ".use": self._dot_vms,
            ".vms": self._dot_vms,
            ".record": lambda dot: self._dot_record(dot.arguments()),
            ".schema": lambda dot: self._dot_schema(dot.arguments()),
            ".watch": lambda dot: self._watch(dot.arguments()),
            ".jobs": self._dot_jobs,
            ".format": lambda dot: self._dot_format(dot.arguments()),
        }
        """The dot-commands of :data:`~qmpshell.shorthand.dotcommands.DOT_COMMANDS`
        that run in scripts, carried out here; the others are the prompt's."""

    # -- several VMs -------------------------------------------------------
    @property
    def connection(self) -> QmpConnection | None:
        """The current VM's connection (None in a dry run)."""
        member = self.vms.current
        return member.connection if member is not None else None

    @connection.setter
    def connection(self, conn: QmpConnection | None) -> None:
        """Replace the current VM's connection (a reconnect), or add the first."""
        member = self.vms.current
        if conn is None:
            if member is not None:
                self.vms.remove(member.name)
        elif member is None:
            self.attach(default_name(conn.name), conn)
        else:
            member.connection = conn

    @property
    def _seen(self) -> collections.deque[dict[str, Any]]:
        member = self.vms.current
        return member.seen if member is not None else self._own_seen

    def attach(self, name: str, conn: QmpConnection, schema: Schema | None = None, *,
               explicit: bool = False) -> Member:
        """Add a connection under ``name`` (``explicit``: the user chose it,
        so it must be free); the first one becomes current."""
        member = self.vms.add(name, conn, explicit=explicit)
        member.schema = schema
        if self.vms.current is member and len(self.vms) == 1 and self.parser is not None:
            self._switch_schema(member)
        return member

    def detach(self, name: str) -> Member:
        """Take a connection out (the caller closes it); plain lines go to
        the first one left if it was the current one."""
        was = self.vms.current
        member = self.vms.remove(name)
        if was is member and self.vms.current is not None:
            self._switch_schema(self.vms.current)
        return member

    def use(self, name: str) -> Member:
        """Send plain lines to ``name`` from now on, typed by its schema."""
        member = self.vms.get(name)
        if member is not self.vms.current:
            self.parser.reset()
            self.vms.use(name)
            self._switch_schema(member)
        return member

    def _switch_schema(self, member: Member) -> None:
        schema = member.schema or self._shared_schema
        if schema is not None and schema is not self.schema:
            self.use_schema(schema)

    def renderer_for(self, member: Member | None) -> Renderer:
        """Messages of ``member`` carry its name when there are several VMs."""
        label = self._label
        if label is None and member is not None and len(self.vms) > 1:
            label = member.name
        base, made = self._labelled
        if base is not self.renderer:
            base, made = self._labelled = (self.renderer, {})
        renderer = made.get(label)
        if renderer is None:
            renderer = made[label] = base.labelled(label)
        return renderer

    def vms_table(self) -> str:
        """``.vms``: name, kind, QEMU version, state; ``*`` marks the current."""
        current = self.vms.current
        rows = [("", "NAME", "KIND", "QEMU", "STATE")]
        rows += [("*" if m is current else "", m.name, m.kind, m.version or "?", m.state)
                 for m in self.vms]
        widths = [max(len(r[i]) for r in rows) for i in range(4)]
        return "\n".join(" ".join(c.ljust(w) for c, w in zip(r[:4], widths, strict=True))
                         + " " + r[4] for r in rows)

    def close_pool(self) -> None:
        """Let the fan-out threads go (at the end of the run)."""
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False)

    def _threads(self) -> ThreadPoolExecutor:
        if self._pool is None:
            from concurrent.futures import ThreadPoolExecutor

            from qmpshell.runner.fanout import MAX_THREADS

            self._pool = ThreadPoolExecutor(max_workers=MAX_THREADS,
                                            thread_name_prefix="fan-out")
        return self._pool

    def _targeted(self, target: str, line: str, where: str | None, offset: int = 0) -> bool:
        """``@TARGET line``: the line on every VM the target names, at once
        (``line`` starts ``offset`` characters into the line as typed)."""
        from qmpshell.runner import fanout

        members = self.vms.match(target)
        gathered = self.settings.pretty and (len(members) > 1 or self.settings.interactive)
        text = line.strip()
        if text.startswith(".") or _HELP_ASK.match(text) or self.settings.hmp:
            ask = self._ask_once()
            captures = fanout.run_everywhere(
                members, lambda m, c: self._run_as(m, c, line, where, ask), self._threads,
                separate_events=gathered)
        else:
            parsed: dict[int, dict[str, Any] | QmpShellError | None] = {}  # by schema
            if not self._confirmed_everywhere(members, line, parsed, offset):
                self._note("not run")
                return True
            captures = fanout.send_everywhere(
                members, lambda schema: self._parse_to_send(schema, line, where, parsed, offset),
                where,
                schema_of=self._schema_of, renderer_for=self.renderer_for,
                verbose=self.settings.verbose, pool=self._threads, gathered=gathered)
        fanout.show(target, captures, gathered=gathered, out=self.out, report=self.report)
        loss = fanout.first_loss(captures)
        if loss is not None:
            raise loss
        if all(c.ok for c in captures):
            if self.recorder is not None:
                self._record_targeted(target, line)
            return True
        self.failed = True
        return False

    def _confirmed_everywhere(self, members: list[Member], line: str,
                              parsed: dict[int, dict[str, Any] | QmpShellError | None],
                              offset: int) -> bool:
        """``@TARGET line``: one question for every VM the line goes to,
        asked about the request as the first VM's schema reads it."""
        for member in members:
            request = self._parse_alone(self._schema_of(member), line, parsed, offset)
            if isinstance(request, dict):
                names = ", ".join(m.name for m in members)
                return self._confirmed(request, f" (on {names})" if len(members) > 1 else "")
        return True

    def _schema_of(self, member: Member) -> Schema:
        return member.schema or self._shared_schema or Schema()

    def schema_for(self, target: str) -> Schema | None:
        """The schema an ``@target`` line is typed by at the prompt (its first
        VM's own); None when no VM matches."""
        try:
            members = self.vms.match(target)
        except QmpShellError:
            return None
        return self._schema_of(members[0])

    def _parse_alone(self, schema: Schema, line: str,
                     parsed: dict[int, dict[str, Any] | QmpShellError | None], offset: int,
                     ) -> dict[str, Any] | QmpShellError | None:
        """``line`` as a request typed by ``schema`` (a transaction on one
        line); kept in ``parsed``, so that asking and sending parse it once.
        ``offset``: where ``line`` starts in the line as typed, which the
        column of an error counts from."""
        if id(schema) in parsed:
            return parsed[id(schema)]
        parser = self._targeted_parser(schema)
        request: dict[str, Any] | QmpShellError | None
        try:
            request = parser.feed(line)
        except ParseError as error:
            request = error
            if error.column and offset:
                request = ParseError(error.message, error.column + offset, error.line)
        except QmpShellError as error:
            request = error
        else:
            if parser.in_transaction:
                parser.reset()
                request = ParseError("after @VM, a transaction( ... ) goes on one line")
        parsed[id(schema)] = request
        return request

    def _parse_to_send(self, schema: Schema, line: str, where: str | None,
                       parsed: dict[int, dict[str, Any] | QmpShellError | None], offset: int,
                       ) -> dict[str, Any] | QmpShellError | None:
        """``line`` as the request that goes to the VMs ``schema`` types, a
        recording's masked secrets filled in (the mask is never sent)."""
        request = self._parse_alone(schema, line, parsed, offset)
        if not isinstance(request, dict):
            return request
        try:
            return unmask(request, self.secrets, where)
        except QmpShellError as error:
            return error

    def _ask_once(self) -> Ask | None:
        """The question of a line run on several VMs at once (``@all .hmp
        system_reset``): asked once, the answer holds for every VM."""
        ask = self._ask
        if ask is None:
            return None
        import threading

        lock = threading.Lock()
        answers: dict[str, bool] = {}

        def once(question: str) -> bool:
            with lock:
                if question not in answers:
                    answers[question] = ask(question)
                return answers[question]
        return once

    def _run_as(self, member: Member, capture: Capture, line: str, where: str | None,
                ask: Ask | None = None) -> bool:
        """Run ``line`` on ``member`` alone, through the same pipeline."""
        schema = self._schema_of(member)
        parser = self._new_parser(schema)
        child = Runner(self.settings, parser=parser, schema=schema, connection=member.connection,
                       out=capture.out, report=capture.report,
                       renderer=self.renderer, wait_timeout=self.wait_timeout,
                       name=member.name, make_parser=self._make_parser)
        child.vms.current.seen = member.seen  # type: ignore[union-attr]
        child.secrets = self.secrets
        child._label = member.name if len(self.vms) > 1 else None
        child.event_out = capture.event
        child.notice = capture.out if self.notice is not None else None
        return child.run_line(line, where, ask=ask)

    def _targeted_parser(self, schema: Schema) -> LineParser:
        """The parser kept for ``@VM`` lines typed by ``schema``."""
        kept = self._targeted_parsers.get(id(schema))
        if kept is not None and kept[0] is schema:
            return kept[1]
        if len(self._targeted_parsers) >= MAX_TARGETED_PARSERS:  # schemas replaced over time
            self._targeted_parsers.clear()
        parser = self._new_parser(schema)
        self._targeted_parsers[id(schema)] = (schema, parser)
        return parser

    def _new_parser(self, schema: Schema) -> LineParser:
        allow_unknown = not schema.complete
        if self._make_parser is not None:
            parser = self._make_parser(schema)
            parser.use_schema(schema, allow_unknown=allow_unknown)
            return parser
        from qmpshell.shorthand.parser import ShorthandParser

        return ShorthandParser(schema, allow_unknown=allow_unknown)

    def _record_targeted(self, target: str, line: str) -> None:
        """Write an ``@TARGET line`` as typed (secrets masked)."""
        assert self.recorder is not None
        from qmpshell.runner.recorder import RecordError

        try:
            self.recorder.record_line(f"@{target} {line}")
        except RecordError as error:
            path, self.recorder = self.recorder.path, None
            self._fail(RecordError(f"{error}; recording to {path} stopped"), self.where)

    @property
    def in_transaction(self) -> bool:
        return self.parser.in_transaction

    # -- sources ---------------------------------------------------------
    def run_lines(self, lines: Iterable[str], name: str) -> None:
        """Run numbered lines (``name:N``) until the end, ``.quit`` or ``-e``."""
        number = 0
        exit_on_error = self.settings.exit_on_error
        if isinstance(lines, list):
            known = lines
            self._upcoming = lambda count: known[self._number:self._number + count]
        else:  # lines that come as they are read offer the ones read already
            self._upcoming = getattr(lines, "following", None)
        self._announced = 0
        try:
            for line in lines:
                number += 1
                self._number = number
                if not self.run_line(line, f"{name}:{number}") and exit_on_error:
                    self.stopped = True
                if self.stopped:
                    return
        finally:
            self._upcoming = None
        self.finish(f"{name}:{number}")

    def finish(self, where: str | None) -> bool:
        """End of input: an open ``transaction(`` is an error."""
        if not self.parser.in_transaction:
            return True
        self.parser.reset()
        return self._fail(ParseError("end of input inside transaction( ... ): missing ')'"),
                          where)

    # -- one line --------------------------------------------------------
    def run_line(self, line: str, where: str | None = None, *, ask: Ask | None = None) -> bool:
        """Run one line; False when it failed (the failure is reported).

        ``ask`` puts the question before a request that stops or destroys
        the VM (None: nobody to ask, nothing is asked)."""
        self.where = where
        self._ask = ask
        try:
            return self._dispatch(line, where)
        except ParseError as error:
            if self._schema_refreshed():
                return self.run_line(line, where)  # once more, by the server's own schema
            return self._fail(error, where)
        except QMPError as error:
            return self._fail(error, where)
        except ConnectError:
            raise
        except QmpShellError as error:
            return self._fail(error, where)
        finally:
            self._ask = None
            self.drain_events()

    def _dispatch(self, line: str, where: str | None) -> bool:
        text = line.strip()
        if text.startswith("@") and not self.parser.in_transaction:
            target, rest = split_target(text)
            at = typed_target(line)  # where the rest starts: columns count from the line's start
            assert target is not None and at is not None
            return self._targeted(target, rest, where, max(at[1], 0))
        if text.startswith(".") and not self.parser.in_transaction:
            from qmpshell.shorthand.dotcommands import parse_dot

            return self._dot(parse_dot(text))
        asked = _HELP_ASK.match(text) if "?" in text else None
        if asked and not self.parser.in_transaction:
            return self._help(asked.group("name") or "")
        if self.settings.hmp and not self.parser.in_transaction:
            if not text or text.startswith("#"):
                return True
            return self._hmp(text)
        return self._shorthand(line)

    # -- schema and recording ---------------------------------------------
    def _schema_refreshed(self) -> bool:
        """A line the schema refused: if the schema came unchecked from the
        cache, ask once whether the server's differs, and use it if so."""
        if self.recheck_schema is None or self.parser.in_transaction:
            return False
        recheck, self.recheck_schema = self.recheck_schema, None
        fresh = recheck()
        if fresh is None:
            return False
        self.use_schema(fresh)
        return True

    def use_schema(self, schema: Schema) -> None:
        """Type, complete and record by ``schema`` from now on."""
        self.schema = schema
        self.parser.use_schema(schema, allow_unknown=self.connection is not None
                               and not schema.complete)
        if self.recorder is not None:
            self.recorder.schema = schema

    def start_recording(self, path: str) -> None:
        """Append executed lines to ``path`` (replacing a recording under way
        once the new file is open); RecordError when it cannot be opened."""
        from pathlib import Path

        from qmpshell.runner.recorder import Recorder
        from qmpshell.schema.cache import format_qemu_version

        greeting = self.connection.greeting if self.connection is not None else None
        version = (greeting or {}).get("QMP", {}).get("version")
        recorder = Recorder(Path(path), schema=self.schema,
                            qemu_version=format_qemu_version(version) if version else None,
                            vms=self.vms.names)
        self.stop_recording()
        self.recorder = recorder

    def stop_recording(self) -> None:
        """Close the recording, if any (RecordError when the last write fails)."""
        recorder, self.recorder = self.recorder, None
        if recorder is not None:
            recorder.close()

    def _record(self, request: dict[str, Any] | None, dot_line: str = "") -> None:
        """Write what was executed: the request, or a dot-command as typed.
        A recording that cannot be written stops, and the run fails."""
        if self.recorder is None:
            return
        from qmpshell.runner.recorder import RecordError

        try:
            if request is not None and not dot_line:
                self.recorder.record_request(request)
            else:
                self.recorder.record_dot(dot_line)
        except RecordError as error:
            path, self.recorder = self.recorder.path, None
            self._fail(RecordError(f"{error}; recording to {path} stopped"), self.where)

    def _shorthand(self, line: str) -> bool:
        # The parser holds transaction( state, and refuses a transaction
        # whose actions had errors when it closes.
        request = self.parser.feed(line)
        if request is None:
            return True
        self._warn_deprecated(request)
        return self._execute(request)

    def _deprecations(self, request: dict[str, Any]) -> list[str]:
        schema = self.schema
        if schema is None or not schema.complete:
            return []
        return deprecation_warnings(schema, request)

    def _warn_deprecated(self, request: dict[str, Any]) -> None:
        """Before sending: what the server's schema says will go away."""
        for text in self._deprecations(request):
            self.report(Caution(text), self.where)

    # -- requests --------------------------------------------------------
    def _execute(self, request: dict[str, Any], hmp: bool = False,
                       typed: str = "") -> bool:
        """Send a request, print its reply; ``typed`` is the dot-command line
        to record instead of the request (``.hmp info block``)."""
        member = self.vms.current
        if member is None:
            self._check_dry()
            self.out(self._request_renderer.request(request))
            self._record(request, typed)
            return True
        if not self._confirmed(request):
            self._note("not run")
            return True
        request = unmask(request, self.secrets, self.where)  # the mask is never sent
        if self.settings.verbose:
            self.out(self.renderer_for(member).request(request))
        connection = member.connection
        if self._upcoming is not None and _is_query(request):
            self._announce_next(connection, self._upcoming, self._number)
        reply = connection.execute(request)
        if self.recorder is not None:
            self._record(request, typed)
        for event in connection.take_events(before=reply.seq):
            self._emit_event(event)
        self._say_dropped(connection)
        message = reply.message
        self.out(self.renderer_for(member).hmp_reply(message) if hmp else
                 self.render_reply(str(request.get("execute", "")), message, member))
        error = message.get("error")
        if isinstance(error, dict):
            raise QMPError(str(error.get("class", "")), str(error.get("desc", "")))
        return True

    def _announce_next(self, connection: QmpConnection,
                       upcoming: Callable[[int], list[str]], number: int) -> None:
        """Line ``number`` of a file is a query: let a connection that can
        (the blocking driver) send the queries that follow it (up to
        :data:`LOOK_AHEAD`, those not announced yet, up to the first line
        that is not one) before its reply is read, so that QEMU works while
        the replies are printed.  Whatever happens to a line, the queries
        after it change nothing, and their replies are dropped if the script
        stops before them."""
        send_next = getattr(connection, "send_next", None)
        if send_next is None:
            return
        if self._announced < number:
            self._announced = number
        lines = upcoming(LOOK_AHEAD)  # lines number + 1, number + 2...
        for offset in range(self._announced - number, len(lines)):
            following = self._sendable(lines[offset])
            if following is None:
                return
            send_next(following)
            self._announced = number + offset + 1

    def _sendable(self, line: str) -> dict[str, Any] | None:
        """The request of ``line`` if it may be sent ahead: a plain query,
        sent as it is (no warning, question or secret before it, nothing
        printed before it is sent)."""
        peek = getattr(self.parser, "peek", None)
        if peek is None or self.settings.verbose or self.settings.hmp:
            return None
        text = line.strip()
        if not text or text[0] in "@.#" or "?" in text:
            return None
        following: dict[str, Any] | None = peek(line)
        if (following is not None and _is_query(following)
                and following.keys() <= {"execute", "arguments"}
                and not self._deprecations(following) and not masked_secrets(following)
                and not confirmation_prompt(following)):
            return following
        return None

    def _confirmed(self, request: dict[str, Any], where: str = "") -> bool:
        """Whether to send ``request``: yes unless it is in the safety table
        and the person asked says no (see the module doc); ``where`` names
        the VMs of an ``@TARGET`` line."""
        question = confirmation_prompt(request)
        if where:
            question = question.replace(". Run it?", f"{where}. Run it?", 1)
        if not question:
            return True
        if self.settings.yes:
            note("confirm", "not asked (--yes or confirm = false): %s", question.strip())
            return True
        if self._ask is None:
            note("confirm", "not asked (nobody to ask: a script): %s", question.strip())
            return True
        answer = self._ask(question)
        note("confirm", "asked %r: %s", question.strip(), "yes" if answer else "no")
        return answer

    def render_reply(self, command: str, reply: dict[str, Any],
                     member: Member | None = None) -> str:
        """A reply of ``member`` (default: the current VM) as text: a table
        for the commands that have one (with ``.format table``), JSON otherwise."""
        if self.format == "table":
            from qmpshell.runner.tables import table_for  # not in scripts that print JSON

            table = table_for(command, reply, color=self.settings.color)
            if table is not None:
                return table
        return self.renderer_for(member or self.vms.current).reply(reply)

    def _hmp(self, command_line: str) -> bool:
        request = {"execute": HMP_COMMAND, "arguments": {"command-line": command_line}}
        return self._execute(request, hmp=True, typed=f".hmp {command_line}")

    # -- dot-commands ----------------------------------------------------
    def _dot(self, dot: DotCommand) -> bool:
        """A dot-command by the registry: its handler here, or the prompt's."""
        handler = self._dot_handlers.get(dot.spec.name)
        if handler is None:
            raise ParseError(f"{dot.spec.name} works at the prompt only")
        return handler(dot)

    def _dot_quit(self, dot: DotCommand) -> bool:
        self.stopped = True
        return True

    def _dot_echo(self, dot: DotCommand) -> bool:
        self.out(self.renderer.text(dot.arguments()))
        self._record(None, f".echo {dot.rest}")
        return True

    def _dot_sleep(self, dot: DotCommand) -> bool:
        self._pump(dot.arguments())
        self._record(None, f".sleep {dot.rest}")
        return True

    def _dot_wait(self, dot: DotCommand) -> bool:
        from qmpshell.shorthand.dotcommands import check_wait

        spec = check_wait(dot.arguments(), self.schema)
        try:
            self._wait(spec)
        except ConnectError:
            raise
        except QmpShellError:
            self._record(None, f".wait {dot.rest}")  # it ran: a replay waits the same
            raise
        self._record(None, f".wait {dot.rest}")
        return True

    def _dot_vms(self, dot: DotCommand) -> bool:
        """``.use``, ``.vms``, ``.connect`` (in scripts) and ``.disconnect``."""
        if dot.name == "vms":
            dot.arguments()  # it takes none
            self.out(self.renderer.text(self.vms_table() if len(self.vms) else
                                        "no VMs connected"))
            return True
        if dot.name == "use":
            member = self.use(dot.arguments())
            self._note(f"plain lines go to {member.name}")
        elif dot.name == "disconnect":
            member = self.detach(dot.arguments())
            member.connection.close()
            self._note(f"disconnected from {member.name}")
        else:
            self._dot_connect(dot.arguments())
        self._record(None, f".{dot.name} {dot.rest}".rstrip())
        return True

    def connect_plan(self, spec: str | None) -> tuple[str, str, Member | None]:
        """What ``.connect SPEC`` means: (name, address, the VM it replaces
        or None to add one).  No SPEC, or a VM's name, reconnects that VM;
        NAME=ADDRESS adds one (or moves NAME there); a bare ADDRESS moves the
        only VM there, as with a single connection, or adds one beside several."""
        current = self.vms.current
        if spec is None or (spec in self.vms.names and "=" not in spec):
            member = current if spec is None else self.vms.get(spec)
            if member is None:
                raise QmpShellError(".connect needs an ADDRESS (UNIX socket path or HOST:PORT)")
            return member.name, member.connection.name, member
        name, address = split_named(spec)
        if name is not None:
            plan = name, address, (self.vms.get(name) if name in self.vms.names else None)
        elif current is not None and len(self.vms) == 1:
            plan = current.name, address, current  # one VM: connect it elsewhere
        else:
            wanted = default_name(address)
            same = next((m for m in self.vms if m.name == wanted
                         and m.connection.name == address), None)
            plan = (wanted, address, same) if same is not None else (
                self.vms.free_name(wanted), address, None)
        self._check_free(address, plan[2])
        return plan

    def _check_free(self, address: str, replaced: Member | None) -> None:
        """QEMU's monitor serves one client at a time: a second connection
        to a server another VM holds would wait for a greeting in vain."""
        from qmpshell.wire.address import same_address

        for member in self.vms:
            if member is not replaced and member.connection.connected \
                    and same_address(member.connection.name, address):
                raise QmpShellError(f"{member.name} is connected to {address} already "
                                    f"(QEMU's monitor serves one client at a time: @{member.name} "
                                    "runs a line there)")

    def _dot_connect(self, spec: str | None) -> None:
        if self.connector is None:
            raise QmpShellError(".connect is not available here")
        name, address, replaced = self.connect_plan(spec)
        note("connect", ".connect: %s at %s (%s)", name, address,
             "replacing its connection" if replaced is not None else "one more VM")
        reopen = getattr(replaced.connection, "reopen", None) if replaced else None
        if reopen is not None and address == replaced.connection.name:  # type: ignore[union-attr]
            conn = reopen()  # a libvirt guest: through libvirt again
        else:
            if replaced is not None and let_go_first(replaced.connection, address):
                replaced.connection.close()
            conn = self.connector(address)
        schema = self.schema_of(conn) if self.schema_of is not None else None
        if replaced is not None:
            old, replaced.connection = replaced.connection, conn
            old.close()
            replaced.schema = schema or replaced.schema
            if replaced is self.vms.current:
                self._switch_schema(replaced)
        else:
            self.attach(name, conn, schema)
        self._note(f"connected to {name} ({address})")

    def _dot_record(self, spec: RecordSpec) -> bool:
        if spec.path is not None:
            self.start_recording(spec.path)
            self._note(f"recording to {spec.path}")
        elif spec.off:
            was = self.recorder.path if self.recorder is not None else None
            self.stop_recording()
            self._note(f"recording to {was} stopped" if was else "not recording")
        else:
            state = f"recording to {self.recorder.path}" if self.recorder else "not recording"
            self.out(self.renderer.text(state))
        return True

    def _dot_schema(self, spec: SchemaSpec) -> bool:
        if spec.save_to is None:
            self.out(self.renderer.text(describe_schema(self.schema)))
            return True
        if self.connection is None:
            raise QmpShellError(".schema save needs a server: it saves the connected "
                                "QEMU's own schema")
        reply = self.connection.execute({"execute": "query-qmp-schema"}).message
        error = reply.get("error")
        if isinstance(error, dict):
            raise QMPError(str(error.get("class", "")), str(error.get("desc", "")))
        from qmpshell.schema.files import save_schema

        save_schema(reply.get("return"), spec.save_to)
        self._note(f"schema saved to {spec.save_to} (load it with --schema {spec.save_to})")
        return True

    def _dot_format(self, chosen: str | None) -> bool:
        if chosen is None:
            self.out(self.renderer.text(f"format {self.format}"))
        else:
            self.format = chosen
            self._note(f"format {chosen}")
        return True

    def _dot_jobs(self, dot: DotCommand) -> bool:
        """``.jobs``: the jobs and the migration, in one table, once."""
        dot.arguments()  # it takes none
        if self.connection is None:
            return True
        replies = {}
        for query in ("query-jobs", "query-migrate"):
            replies[query] = self.connection.execute({"execute": query}).message
        self.drain_events()
        if self.format == "json":
            self.out(self.renderer.reply({"return": {
                "jobs": replies["query-jobs"].get("return"),
                "migration": replies["query-migrate"].get("return")}}))
            return True
        from qmpshell.runner.progress import jobs_of, jobs_table, migration_of

        works = jobs_of(replies["query-jobs"].get("return"))
        migration = migration_of(replies["query-migrate"].get("return"))
        self.out(self.renderer.text(jobs_table(works + ([migration] if migration else []),
                                               color=self.settings.color)))
        return True

    def _watch(self, spec: WatchSpec) -> bool:
        """``.watch LINE``: run LINE's request again and again; at a terminal
        that shows the output, each reply replaces the previous one with the
        changes highlighted, elsewhere each is printed."""
        if self.settings.hmp:
            request = {"execute": HMP_COMMAND, "arguments": {"command-line": spec.line}}
        else:
            request = self._watch_request(spec.line)
        if self.connection is None:
            self.out(self._request_renderer.request(request))
            return True
        limit = spec.timeout if spec.timeout is not None else (
            None if spec.count is not None else self.wait_timeout)
        deadline = None if limit is None else time.monotonic() + limit
        command = str(request.get("execute", ""))
        view = None
        if self.terminal is not None and self.terminal.shares_output:
            from qmpshell.runner.watching import WatchView

            view = WatchView(self.terminal, f"every {spec.every:g} s: {spec.line}")
        count = 0
        try:
            self._live = view
            while True:
                started = time.monotonic()
                message = self.connection.execute(request).message
                count += 1
                self.drain_events()
                text = (self.renderer.hmp_reply(message) if self.settings.hmp
                        else self._plain_reply(command, message) if view is not None
                        else self.render_reply(command, message))
                if view is not None and view.fits(text):
                    import datetime

                    view.show(text, count, datetime.datetime.now().strftime("%H:%M:%S"))
                else:
                    self._show(text)
                error = message.get("error")
                if isinstance(error, dict):
                    raise QMPError(str(error.get("class", "")), str(error.get("desc", "")))
                if spec.count is not None and count >= spec.count:
                    return True
                pause = spec.every - (time.monotonic() - started)
                if deadline is not None and time.monotonic() + max(0.0, pause) >= deadline:
                    return True
                self._pump(max(0.0, pause))
        finally:
            self._live = None
            if view is not None:
                view.finish()

    def _watch_request(self, line: str) -> dict[str, Any]:
        if self.parser.in_transaction:
            raise ParseError(".watch inside transaction( ... )")
        try:
            request = self.parser.feed(line)
        finally:
            if self.parser.in_transaction:
                self.parser.reset()
        if request is None:
            raise ParseError(".watch runs one command, not a transaction(")
        return request

    def _plain_reply(self, command: str, reply: dict[str, Any]) -> str:
        """A reply without colour: changes are highlighted on plain text."""
        if self.format == "table":
            from qmpshell.runner.tables import table_for

            table = table_for(command, reply)
            if table is not None:
                return table
        from qmpshell.runner.render import indented

        return indented(reply) if self.renderer.pretty else self.renderer.reply(reply)

    def _show(self, text: str) -> None:
        """Ordinary output while live lines may be on the screen: they make
        room first, and come back at their next change."""
        if self._live is not None:
            self._live.clear()
        self.out(text)
        if self._live is not None:
            self._live.redraw()

    def _note(self, text: str) -> None:
        """A confirmation for a person; scripts keep stdout for QEMU's messages."""
        if self.notice is not None:
            self.notice(text)

    def _help(self, name: str) -> bool:
        self.out(self.renderer.text(help_text(self.schema, name.strip())))
        return True

    # -- events ----------------------------------------------------------
    def _emit_event(self, event: dict[str, Any], member: Member | None = None) -> None:
        member = member or self.vms.current
        (member.seen if member is not None else self._own_seen).append(event)
        if self._live is not None and self._live.event(event):
            return  # folded into a progress line
        renderer = self.renderer_for(member)
        if self.event_sink is not None and self._live is None:
            # the prompt paces them for a person; not under live lines, which
            # must make room first (they are drawn from this thread)
            self.event_sink(event, lambda: renderer.event(event))
            return
        (self.event_out or self._show)(renderer.event(event))

    def drain_events(self) -> None:
        """Print the events that arrived and were not printed yet, from
        every VM (the prompt calls it while no line runs)."""
        for member in self.vms:
            for event in member.connection.take_events():
                self._emit_event(event, member)
            self._say_dropped(member.connection)

    def _say_dropped(self, connection: QmpConnection) -> None:
        """Events a connection could not keep (more than it holds came
        before they were taken) are never lost silently: said once per loss,
        and the run fails."""
        dropped = getattr(connection, "dropped_events", 0)
        told = self._dropped_told.get(id(connection), 0)
        if dropped > told:
            self._dropped_told[id(connection)] = dropped
            self._fail(QmpShellError(
                f"{dropped - told:,} events were dropped: more arrived than the "
                f"{SEEN_EVENTS:,} kept while waiting"), self.where)

    def _take_seen(self, spec: WaitSpec) -> dict[str, Any] | None:
        for i, event in enumerate(self._seen):
            if spec.matches(event):
                del self._seen[i]
                return event
        return None

    def _wait(self, spec: WaitSpec) -> bool:
        """Block until an event matching ``spec`` (received before counts,
        once), showing the progress of long work meanwhile (when the runner
        has a terminal for it)."""
        timeout = spec.timeout if spec.timeout is not None else self.wait_timeout
        if self.connection is None:
            self._check_dry()
            return True
        deadline = None if timeout is None else time.monotonic() + timeout
        self.drain_events()
        earlier = self._take_seen(spec)
        if earlier is not None:
            self._note(f"{earlier.get('event')} ({received_ago(earlier)})")
            return True
        view = self._progress_view(spec)
        self._live = view
        try:
            while True:
                if view is not None:
                    self._poll_progress(view)
                if self._take_seen(spec) is not None:
                    break
                remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
                step = remaining
                if view is not None and (until := view.seconds_to_next()) is not None:
                    step = until if step is None else min(step, until)
                if step == 0.0 or not self.connection.wait_events(self._slice(step)):
                    self._check_connected()
                    if deadline is not None and time.monotonic() >= deadline:
                        raise QmpShellError(f"no {spec.event} event within {timeout:g} s"
                                            + self._default_wait_note(spec))
                self.drain_events()
                if self._take_seen(spec) is not None:
                    break
            if view is not None and view.wants_final_look():
                self._poll_progress(view, final=True)
        finally:
            self._live = None
            if view is not None:
                view.finish()
        return True

    def _progress_view(self, spec: WaitSpec) -> ProgressView | None:
        """Progress lines for this wait: with a terminal to show them on."""
        if self.terminal is None:
            return None
        from qmpshell.runner.progress import WORK_EVENTS
        from qmpshell.runner.watching import ProgressView

        return ProgressView(self.terminal, about_work=spec.event.upper() in WORK_EVENTS,
                            event=spec.event, seen=list(self._seen))

    def _poll_progress(self, view: ProgressView, final: bool = False) -> None:
        """Send the progress query that is due, if any (one at a time); with
        ``final``, one last ``query-migrate`` for the summary."""
        assert self.connection is not None
        request = {"execute": "query-migrate"} if final else view.take()
        if request is None:
            return
        reply = self.connection.execute(request).message
        view.answered(request, reply)
        self.drain_events()

    def _default_wait_note(self, spec: WaitSpec) -> str:
        """Where the time limit came from, when the line did not say."""
        if spec.timeout is not None:
            return ""
        origin = "--timeout" if self.settings.timeout is not None else "the default for scripts"
        return f" ({origin}; .wait {spec.event} timeout=S to change it)"

    def _pump(self, seconds: float) -> None:
        """Sleep, printing events as they arrive."""
        if self.connection is None:
            return
        deadline = time.monotonic() + seconds
        while (remaining := deadline - time.monotonic()) > 0:
            if not self.connection.wait_events(self._slice(remaining)):
                self._check_connected()
            self.drain_events()

    def _slice(self, remaining: float | None) -> float | None:
        """How long to wait on the current VM alone: with several, briefly,
        so that the others' events are printed as they come."""
        if len(self.vms) < 2:
            return remaining
        return EVENT_SLICE if remaining is None else min(remaining, EVENT_SLICE)

    def _check_dry(self) -> None:
        """No connection: a dry run, unless the run connects with .connect."""
        if self.connector is not None:
            raise ConnectError("not connected: .connect [NAME=]ADDRESS first")

    def _check_connected(self) -> None:
        assert self.connection is not None
        reason = self.connection.lost_reason()
        if reason is not None:
            raise ConnectError(f"connection lost: {reason}")

    def _fail(self, error: QmpShellError, where: str | None) -> bool:
        self.failed = True
        self.report(error, where)
        return False


def _is_query(request: dict[str, Any]) -> bool:
    """A ``query-*`` request: it only reads the VM's state."""
    name = request.get("execute")
    return type(name) is str and name.startswith("query-") and "exec-oob" not in request


def received_ago(event: dict[str, Any], now: float | None = None) -> str:
    """'received 3 s ago', from the time stamp QEMU put on the event."""
    import time

    stamp = event.get("timestamp")
    if not isinstance(stamp, dict) or not isinstance(stamp.get("seconds"), int):
        return "received earlier"
    at = stamp["seconds"] + stamp.get("microseconds", 0) / 1e6
    ago = max(0.0, (time.time() if now is None else now) - at)
    return f"received {ago:.0f} s ago" if ago >= 1 else "received just before"


def help_text(schema: Schema | None, name: str) -> str:
    """``.help`` / ``.help CMD`` text."""
    if schema is None:
        return "no command table loaded"
    from qmpshell.runner import help as helpmod

    if name:
        if schema.command(name) is None and name not in schema.events:
            hints = schema.suggest_command(name)
            hint = f" (did you mean {', '.join(hints)}?)" if hints else ""
            raise ParseError(f"unknown command {name!r}{hint}")
        return helpmod.command_help(schema, name, helpmod.bundled_docs(schema))
    return helpmod.command_list(schema, helpmod.bundled_docs(schema))


def describe_schema(schema: Schema | None) -> str:
    """``.schema``: where the schema lines are typed by came from, and its size."""
    if schema is None:
        return "no schema loaded"
    source = schema.source or "unknown"
    if source == "bundled":
        origin = "the bundled QMP spec"
    elif source.startswith("live"):
        origin = source if source != "live" else "the connected server"
    elif source.startswith("cached QEMU "):
        origin = f"{source}, the last one connected to"
    else:
        origin = f"the file {source}"
    return f"schema: {origin}, {len(schema.commands)} commands"
