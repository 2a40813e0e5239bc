"""The runner: one line at a time, whatever its source.

The same :class:`Runner` serves ``-c``, session files, stdin and the
interactive prompt, so scripted and interactive use cannot drift apart.  It
never asks whether a person is typing: output goes to an injected ``out``
sink (one call per message, text without a trailing newline) and failures to
an injected ``report(error, where)``; the caller decides what those do.

API::

    runner = Runner(settings, parser=..., connection=conn_or_None,
                    out=print_text, report=show_error)
    ok = await runner.run_line("stop", where="session.qmp:3")  # False: the line failed
    await runner.run_lines(lines, name="session.qmp")  # numbered, honours -e and .quit
    runner.finish(where)          # end of input: an unterminated transaction( fails
    runner.in_transaction         # inside a multi-line transaction( (TRANS> prompt)
    runner.failed / runner.stopped / runner.where
    await runner.watch_events()   # print events while no line runs, until disconnected

With ``connection=None`` it is a dry run: requests are printed, not sent.
Connection problems propagate as :class:`~qmpshell.errors.ConnectError`
(``runner.where`` tells which line was running); every other failure is
reported and the runner carries on (unless ``-e``).
"""

from __future__ import annotations

import asyncio
import collections
import re
from collections.abc import AsyncIterable, Callable, Iterable
from typing import Any, Protocol

from qmpshell.client import Connection
from qmpshell.dotcommands import DotCommand, WaitSpec, parse_dot, parse_seconds, parse_wait
from qmpshell.errors import ConnectError, ParseError, QMPError, QmpShellError
from qmpshell.render import HMP_COMMAND, Renderer
from qmpshell.schema import Schema
from qmpshell.settings import Settings

Sink = Callable[[str], None]
Report = Callable[[QmpShellError, "str | None"], None]

SEEN_EVENTS = 1000
"""Received events kept for a later ``.wait`` to match."""

_HELP_ASK = re.compile(r"^\s*(?P<name>[A-Za-z][\w-]*)?\s*\?\s*$")


class LineParser(Protocol):
    """What the runner needs of the shorthand parser."""

    @property
    def in_transaction(self) -> bool: ...

    def feed(self, line: str) -> dict[str, Any] | None: ...

    def reset(self) -> None: ...


class Runner:
    """Executes lines: shorthand, raw JSON, HMP and dot-commands (see module doc)."""

    def __init__(self, settings: Settings, *, parser: LineParser, schema: Schema | None,
                 connection: Connection | None, out: Sink, report: Report,
                 renderer: Renderer | None = None) -> None:
        self.settings = settings
        self.parser = parser
        self.schema = schema
        self.connection = connection
        self.out = out
        self.report = report
        self.renderer = renderer or Renderer(settings.pretty, settings.color, settings.style)
        self._request_renderer = Renderer(False, settings.color, settings.style)
        self.failed = False
        self.stopped = False
        self.where: str | None = None
        self._seen: collections.deque[dict[str, Any]] = collections.deque(maxlen=SEEN_EVENTS)
        self._busy = False
        self._idle = asyncio.Event()
        self._idle.set()

    @property
    def in_transaction(self) -> bool:
        return self.parser.in_transaction

    # -- sources ---------------------------------------------------------
    async def run_lines(self, lines: Iterable[str] | AsyncIterable[str], name: str) -> None:
        """Run numbered lines (``name:N``) until the end, ``.quit`` or ``-e``."""
        number = 0
        if isinstance(lines, AsyncIterable):
            async for line in lines:
                number += 1
                if not await self._run_numbered(line, f"{name}:{number}"):
                    return
        else:
            for line in lines:
                number += 1
                if not await self._run_numbered(line, f"{name}:{number}"):
                    return
        self.finish(f"{name}:{number}")

    async def _run_numbered(self, line: str, where: str) -> bool:
        ok = await self.run_line(line, where)
        if not ok and self.settings.exit_on_error:
            self.stopped = True
        return not self.stopped

    def finish(self, where: str | None) -> bool:
        """End of input: an open ``transaction(`` is an error."""
        if not self.parser.in_transaction:
            return True
        self.parser.reset()
        return self._fail(ParseError("end of input inside transaction( ... ): missing ')'"),
                          where)

    # -- one line --------------------------------------------------------
    async def run_line(self, line: str, where: str | None = None) -> bool:
        """Run one line; False when it failed (the failure is reported)."""
        self.where = where
        self._set_busy(True)
        try:
            return await self._dispatch(line, where)
        except (ParseError, QMPError) as error:
            return self._fail(error, where)
        except ConnectError:
            raise
        except QmpShellError as error:
            return self._fail(error, where)
        finally:
            self._drain()
            self._set_busy(False)

    async def _dispatch(self, line: str, where: str | None) -> bool:
        text = line.strip()
        if text.startswith(".") and not self.parser.in_transaction:
            return await self._dot(parse_dot(text))
        asked = _HELP_ASK.match(text)
        if asked and not self.parser.in_transaction:
            return self._help(asked.group("name") or "")
        if self.settings.hmp and not self.parser.in_transaction:
            if not text or text.startswith("#"):
                return True
            return await self._hmp(text)
        return await self._shorthand(line)

    async def _shorthand(self, line: str) -> bool:
        # The parser holds transaction( state, and refuses a transaction
        # whose actions had errors when it closes.
        request = self.parser.feed(line)
        if request is None:
            return True
        return await self._execute(request)

    # -- requests --------------------------------------------------------
    async def _execute(self, request: dict[str, Any], hmp: bool = False) -> bool:
        if self.connection is None:
            self.out(self._request_renderer.request(request))
            return True
        if self.settings.verbose:
            self.out(self.renderer.request(request))
        reply = await self.connection.send(request)
        for event in self.connection.take_events(before=reply.seq):
            self._emit_event(event)
        message = reply.message
        self.out(self.renderer.hmp_reply(message) if hmp else self.renderer.reply(message))
        error = message.get("error")
        if isinstance(error, dict):
            raise QMPError(str(error.get("class", "")), str(error.get("desc", "")))
        return True

    async def _hmp(self, command_line: str) -> bool:
        request = {"execute": HMP_COMMAND, "arguments": {"command-line": command_line}}
        return await self._execute(request, hmp=True)

    # -- dot-commands ----------------------------------------------------
    async def _dot(self, dot: DotCommand) -> bool:
        if dot.name == "quit":
            self.stopped = True
            return True
        if dot.name == "echo":
            self.out(self.renderer.text(dot.rest))
            return True
        if dot.name == "help":
            return self._help(dot.rest)
        if dot.name == "hmp":
            if not dot.rest:
                raise ParseError(".hmp needs a monitor command, e.g. .hmp info status")
            return await self._hmp(dot.rest)
        if dot.name == "sleep":
            await self._pump(parse_seconds(dot.rest))
            return True
        spec = parse_wait(dot.rest)
        return await self._wait(spec)

    def _help(self, name: str) -> bool:
        self.out(self.renderer.text(help_text(self.schema, name.strip())))
        return True

    # -- events ----------------------------------------------------------
    def _emit_event(self, event: dict[str, Any]) -> None:
        self._seen.append(event)
        self.out(self.renderer.event(event))

    def _drain(self) -> None:
        if self.connection is not None:
            for event in self.connection.take_events():
                self._emit_event(event)

    def _take_seen(self, spec: WaitSpec) -> bool:
        for i, event in enumerate(self._seen):
            if spec.matches(event):
                del self._seen[i]
                return True
        return False

    async def _wait(self, spec: WaitSpec) -> bool:
        """Block until an event matching ``spec`` (received before counts, once)."""
        timeout = spec.timeout if spec.timeout is not None else self.settings.timeout
        if self.connection is None:
            return True
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        self._drain()
        while not self._take_seen(spec):
            remaining = None if deadline is None else max(0.0, deadline - loop.time())
            if remaining == 0.0 or not await self.connection.wait_events(remaining):
                await self._check_connected()
                if deadline is not None and loop.time() >= deadline:
                    raise QmpShellError(
                        f"no {spec.event} event within {timeout:g} s")
            self._drain()
        return True

    async def _pump(self, seconds: float) -> None:
        """Sleep, printing events as they arrive."""
        if self.connection is None:
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while (remaining := deadline - loop.time()) > 0:
            if not await self.connection.wait_events(remaining):
                await self._check_connected()
            self._drain()
            if not self.connection.connected:
                await asyncio.sleep(max(0.0, deadline - loop.time()))

    async def _check_connected(self) -> None:
        assert self.connection is not None
        reason = await self.connection.lost_reason()
        if reason is not None:
            raise ConnectError(f"connection lost: {reason}")

    async def watch_events(self) -> None:
        """Print events as they arrive while no line is running; returns when
        the connection is gone.  For the prompt (events above the input line)
        and for slow input such as a pipe."""
        if self.connection is None:
            return
        while await self.connection.wait_events():
            if self._busy:
                await self._idle.wait()
                continue
            self._drain()
        self._drain()

    def _set_busy(self, busy: bool) -> None:
        self._busy = busy
        if busy:
            self._idle.clear()
        else:
            self._idle.set()

    def _fail(self, error: QmpShellError, where: str | None) -> bool:
        self.failed = True
        self.report(error, where)
        return False


def help_text(schema: Schema | None, name: str) -> str:
    """``.help`` / ``.help CMD`` text, from the help module when present."""
    if schema is None:
        return "no command table loaded"
    try:
        from qmpshell import help as helpmod  # the front end's richer help
    except ImportError:
        helpmod = None  # type: ignore[assignment]
    if name:
        if schema.command(name) is None:
            hints = schema.suggest_command(name)
            hint = f" (did you mean {', '.join(hints)}?)" if hints else ""
            raise ParseError(f"unknown command {name!r}{hint}")
        if helpmod is not None and hasattr(helpmod, "command_help"):
            return str(helpmod.command_help(schema, name))
        return _plain_command_help(schema, name)
    if helpmod is not None and hasattr(helpmod, "command_list"):
        return str(helpmod.command_list(schema))
    dots = "dot-commands: .help [CMD]  .wait EVENT [timeout=S] [key=value ...]  .sleep S  " \
           ".echo TEXT  .hmp LINE  .quit"
    return "\n".join([*schema.command_names(), "", dots])


def _plain_command_help(schema: Schema, name: str) -> str:
    command = schema.command(name)
    assert command is not None
    args = []
    for member in schema.members_for(command.args_type):
        optional = "?" if member.optional else ""
        args.append(f"{member.name}:{schema.describe(member.type)}{optional}")
    lines = [f"{name}  {'  '.join(args)}".rstrip()]
    if command.doc:
        lines += ["", command.doc.strip()]
    return "\n".join(lines)
