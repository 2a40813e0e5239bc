"""The interactive prompt: one more input source for the shared runner.

It runs on prompt_toolkit's asyncio prompt so the connection keeps reading
while the user types: events are printed above the prompt as they arrive
(``patch_stdout``), completion and the toolbar follow the schema, history is
kept with secrets masked.  It never parses shorthand itself; every line goes
to the :class:`~qmpshell.runner.pipeline.Runner`, like a line of a session
file, in a worker thread (the runner is synchronous), so the prompt's loop
stays free; Ctrl-C calls the connection's ``interrupt()``.

``cli`` imports this module only when a person is at the terminal and calls
:func:`run`.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import shutil
import signal
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from prompt_toolkit import PromptSession
from prompt_toolkit.auto_suggest import AutoSuggestFromHistory
from prompt_toolkit.document import Document
from prompt_toolkit.filters import is_searching
from prompt_toolkit.formatted_text import StyleAndTextTuples
from prompt_toolkit.formatted_text.utils import split_lines
from prompt_toolkit.history import History, InMemoryHistory
from prompt_toolkit.input import Input
from prompt_toolkit.key_binding import KeyBindings, KeyPressEvent
from prompt_toolkit.keys import Keys
from prompt_toolkit.lexers import Lexer
from prompt_toolkit.output import ColorDepth, Output
from prompt_toolkit.patch_stdout import patch_stdout
from prompt_toolkit.styles import Style, merge_styles, style_from_pygments_cls
from prompt_toolkit.styles.pygments import pygments_token_to_classname
from pygments.styles import get_style_by_name
from pygments.util import ClassNotFound

from qmpshell.errors import ConnectError, ParseError, QmpShellError
from qmpshell.prompt.banner import asks_to_quit, banner, describe_server, fleet_banner
from qmpshell.prompt.completion import LiveValues, QmpCompleter, ValueSource
from qmpshell.prompt.eventview import EventView
from qmpshell.prompt.history import MaskedFileHistory
from qmpshell.prompt.keys import (
    PendingInput,
    TabKey,
    early_answer,
    keys_wait,
    paste,
    typed_ahead,
)
from qmpshell.prompt.pager import LESS, Pager, page
from qmpshell.prompt.toolbar import (
    Fragments,
    LineCheck,
    fit_toolbar,
    toolbar_fragments,
    typing_prefix_of,
)
from qmpshell.runner.fleet import ALL, let_go_first, typed_target
from qmpshell.schema.model import Schema
from qmpshell.shorthand.dotcommands import parse_dot
from qmpshell.shorthand.lexer import ShorthandLexer
from qmpshell.terminaltext import visible
from qmpshell.wire.aio import execute_on_loop
from qmpshell.wire.connection import Interrupted

if TYPE_CHECKING:
    from qmpshell.runner.pipeline import Runner
    from qmpshell.runner.replaysecrets import SecretSource
    from qmpshell.settings import Settings
    from qmpshell.wire.connection import QmpConnection

PROMPT = "(QEMU) "
PROMPT_HMP = "(HMP) "
PROMPT_AGENT = "(QGA) "
PROMPT_TRANSACTION = "TRANS> "
SCHEMA_CHECK_PAUSE = 0.5
"""Seconds between the cached schema coming into use and asking the server
whether it still holds: lines typed or pasted at once go first, not behind
that reply of some 300 kB."""
TARGET_HINT = "@NAME line: on one VM, @all: on every VM, @GLOB: on the VMs it matches"

UI_STYLE = {
    "bottom-toolbar": "noreverse bg:#262626 #bcbcbc",
    "toolbar.command": "bold #ffffff",
    "toolbar.arg": "",
    "toolbar.given": "#808080",
    "toolbar.current": "bold underline #ffd75f",
    "toolbar.error": "bold #ff5f5f",
    "toolbar.warning": "#d7af00",
    "toolbar.idle": "#8a8a8a",
    "pygments.error": "#ff5f5f underline",
}

Reconnect = Callable[[str], Awaitable["QmpConnection"]]
"""Makes and connects a new connection to an address (for ``.connect``)."""

SchemaSource = Callable[["QmpConnection"], AsyncIterator[Schema]]
"""The schemas of a newly connected server, as they come (cached, then fresh)."""


async def run(runner: Runner, settings: Settings, *, history_path: str | Path | None = None,
              reconnect: Reconnect | None = None, schemas: SchemaSource | None = None,
              pager: Pager | None = None,
              input: Input | None = None, output: Output | None = None) -> int:
    """Read lines at the prompt and run them until Ctrl-D or ``.quit``.

    ``schemas`` reads the server's schema again after ``.connect`` (None keeps
    the schema the shell started with: ``--schema``, HMP mode).  Returns the
    exit status: 0 after a clean exit, also when lines failed (a person saw
    each failure already).  ``pager`` shows long replies after ``.pager on``
    (see :func:`~qmpshell.prompt.pager.choose_pager`)."""
    repl = Repl(runner, settings, history_path=history_path, reconnect=reconnect,
                schemas=schemas, pager=pager, input=input, output=output)
    return await repl.loop()


class Repl:
    """One prompt session around a runner (see :func:`run`)."""

    def __init__(self, runner: Runner, settings: Settings, *,
                 history_path: str | Path | None = None, reconnect: Reconnect | None = None,
                 schemas: SchemaSource | None = None, pager: Pager | None = None,
                 input: Input | None = None, output: Output | None = None) -> None:
        self.runner = runner
        self.settings = settings
        self.pager = False
        self._pager = pager or Pager(LESS)
        self._own: dict[str, Callable[[Any], Awaitable[None]]] = {
            ".connect": self.connect,
            ".pager": self.set_pager,
            ".events": self.show_folded,
        }
        """The dot-commands only a person at the prompt can use (the
        registry's ``in_scripts=False``), carried out here."""
        self.events_view: EventView | None = None
        """Events above the prompt, paced, while the prompt runs."""
        self._reconnect = reconnect
        self._schemas = schemas
        self._schema_task: asyncio.Task[None] | None = None
        self._fallback_schema = runner.schema or Schema()
        self._watched: list[QmpConnection] = []
        self._running = False
        self._paging = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lines_run = 0
        self._closing = False
        self._greeted = False
        self._quit_asked = False
        self._loss_said: list[QmpConnection] = []
        self.live = LiveValues(self._lookup)
        self._live_elsewhere: dict[int, tuple[QmpConnection, LiveValues]] = {}
        """Live names of the VMs other than the current one, for ``@NAME`` lines."""
        self._problem = LineProblem(
            self.schema, lambda: self.connected and not self.schema().complete,
            lambda: runner.in_transaction, self.schema_for)
        completer = QmpCompleter(self.schema, self.live, hmp=settings.hmp,
                                 in_transaction=lambda: runner.in_transaction, targets=self)
        tab = TabKey(completer.tab, completer)
        self.pending = PendingInput()
        self.session: PromptSession[str] = PromptSession(
            message=self.prompt_text,
            completer=completer,
            complete_while_typing=True,
            lexer=None if settings.hmp else PromptLexer(
                self.schema, lambda: runner.in_transaction, self._problem.column,
                self.schema_for),
            bottom_toolbar=self.toolbar,
            history=make_history(history_path, getattr(settings, "history_size", None),
                                 hmp=settings.hmp, on_error=self.error),
            auto_suggest=AutoSuggestFromHistory(),
            vi_mode=settings.vi,
            style=make_style(settings.style),
            include_default_pygments_style=False,
            color_depth=None if settings.color else ColorDepth.MONOCHROME,
            key_bindings=key_bindings(tab, self.pending),
            input=input,
            output=output,
        )

    # -- what the prompt shows ---------------------------------------------
    def schema(self) -> Schema:
        """The schema lines are typed against (the runner's, which a live
        schema may replace while the prompt runs)."""
        return self.runner.schema or self._fallback_schema

    # -- @TARGET lines: completed and checked by their VM's schema ---------
    def names(self) -> list[str]:
        """The VMs an ``@NAME`` line may name."""
        return [member.name for member in self.runner.vms]

    def schema_for(self, target: str) -> Schema:
        """The schema the line after ``@target`` is typed by."""
        return self.runner.schema_for(target) or self.schema()

    def values_for(self, target: str) -> ValueSource | None:
        """Live names (block devices, nodes...) of the VM ``@target`` names
        first, through its own connection."""
        try:
            members = self.runner.vms.match(target)
        except QmpShellError:
            return None
        if any(member is self.runner.vms.current for member in members):
            return self.live
        conn = members[0].connection
        kept = self._live_elsewhere.get(id(conn))
        if kept is None or kept[0] is not conn:
            kept = self._live_elsewhere[id(conn)] = (
                conn, LiveValues(lambda request: self._lookup(request, conn)))
        return kept[1]

    def _target_toolbar(self, target: str, typing: bool) -> Fragments | None:
        """The toolbar for an ``@target`` being typed, or naming no VM;
        None when the line after it is what to show."""
        names = self.names()
        try:
            self.runner.vms.match(target)
        except QmpShellError as error:
            if not typing or not any(n.startswith(target) for n in [ALL, *names]):
                return [("class:toolbar.error", str(error))]
        if typing:
            return [("class:toolbar.idle", f"{TARGET_HINT}  VMs: {', '.join(names)}")]
        return None

    def prompt_text(self) -> str:
        if self.runner.in_transaction:
            return PROMPT_TRANSACTION
        if self.settings.agent:
            return PROMPT_AGENT
        vms = getattr(self.runner, "vms", ())
        current = getattr(vms, "current", None)
        if current is not None and (len(vms) > 1 or current.kind != "qmp"):
            return f"({current.name} HMP) " if self.settings.hmp else f"({current.name}) "
        return PROMPT_HMP if self.settings.hmp else PROMPT

    def toolbar(self) -> StyleAndTextTuples:
        text = self.session.default_buffer.text
        if self.settings.hmp:
            return [("class:toolbar.idle", "HMP mode: each line goes to human-monitor-command")]
        if not self.connected and not self.settings.dry_run:
            note: StyleAndTextTuples = [("class:toolbar.error", "disconnected: .connect [ADDRESS]")]
            if not text.strip():
                return note
        in_transaction = self.runner.in_transaction
        schema = self.schema()
        line = text
        check: LineCheck | None = None
        if not in_transaction:
            def check(_rest: str) -> str | None:
                return self._problem.message(line)  # it reads past an @TARGET itself
        at = None if in_transaction else typed_target(text)
        width = self.session.app.output.get_size().columns
        if at is not None:
            target, start = at
            shown = self._target_toolbar(target, start < 0)
            if shown is not None:
                return list(fit_toolbar(shown, width))
            schema, text = self.schema_for(target), text[start:]
        fragments = toolbar_fragments(text, schema, transaction=in_transaction, check=check)
        return list(fit_toolbar(fragments, width))

    @property
    def connected(self) -> bool:
        conn = self.runner.connection
        return conn is not None and conn.connected

    # -- the loop ------------------------------------------------------------
    async def loop(self) -> int:
        self._loop = asyncio.get_running_loop()
        report, self.runner.report = self.runner.report, self.report
        view = self.events_view = EventView(lambda event: self.runner.renderer.event(event),
                                            self.emit, asyncio.get_running_loop())
        out, self.runner.out = self.runner.out, view.write
        self.runner.event_sink = view.add
        self.runner.notice = self.note
        terminal = getattr(self.runner, "terminal", None)
        if terminal is not None:  # progress lines take the path output takes
            self.runner.terminal = dataclasses.replace(terminal, write=self.emit_raw)
        try:
            keys_held = False
            with patch_stdout(raw=True), self._interruptible(), contextlib.ExitStack() as between:
                self._watch()
                self._on_activity()  # what arrived before the prompt was up
                if self.runner.connection is not None and not self.settings.agent:
                    # Is the cached schema still true?  (An agent's was read
                    # from it just now: asking again would only delay a line.)
                    await self._load_schema(self.runner.connection)
                while not self.runner.stopped:
                    line = self.pending.next_line()
                    if line is not None:
                        self.enter(line)
                    else:
                        try:
                            line = await self.session.prompt_async(
                                handle_sigint=False, default=self.pending.take_unfinished(),
                                pre_run=self._greet)
                        except KeyboardInterrupt:
                            continue
                        except EOFError:
                            break
                    if not keys_held:  # from the first line on: the painted prompt is gone
                        between.enter_context(keys_wait(self.session.input))
                        keys_held = True
                    await self.handle(line)
        finally:
            self._closing = True
            self.runner.report = report
            self.runner.event_sink = None
            view.close()
            self.events_view = None
            self.runner.out = out
            self.runner.notice = None
            if terminal is not None:
                self.runner.terminal = terminal
            self._stop_watching()
            await self._stop_schema_loading()
        return 0

    def enter(self, line: str) -> None:
        """A pasted line, shown and kept in history as if typed and entered."""
        self.print(self.prompt_text() + line)
        if line.strip():
            self.session.history.append_string(line)

    async def handle(self, line: str) -> None:
        """Run one line: the prompt's own dot-commands here, the rest through
        the runner (which asks, through :meth:`ask_from_worker`, before what
        stops or destroys the VM); Ctrl-C abandons it, a lost connection is
        a message."""
        if await self._own_dot_command(line):
            return
        if not await self.masked_secrets_typed(line):
            self.note("not run")
            return
        if asks_to_quit(self.request_of(line)):
            self._quit_asked = True
        conn = self.runner.connection
        async with self._paged():
            self._running = True
            self._lines_run += 1
            try:
                await asyncio.get_running_loop().run_in_executor(
                    None, functools.partial(self.runner.run_line, line, None,
                                            ask=self.ask_from_worker))
            except Interrupted:
                self.note("interrupted")
            except ConnectError as error:
                lost = next((m.connection for m in self.runner.vms
                             if m.connection.lost_reason() is not None), conn)
                if lost is not None and self._said(lost) and not self._quit_asked:
                    self.error("not connected (the connection was lost). "
                               f"Type {self._again(lost)} to reconnect.")
                else:
                    self.say_lost(lost, str(error))
            except asyncio.CancelledError:
                self._interrupt_line()  # the shell is going: so is the line
                raise
            finally:
                self._running = False
                secrets = getattr(self.runner, "secrets", None)
                if secrets is not None:
                    secrets.forget()
        self._on_activity()  # events that came as the line ended

    async def _own_dot_command(self, line: str) -> bool:
        """Carry out a dot-command the registry gives to the prompt (True),
        or leave the line to the runner (False)."""
        if not line.lstrip().startswith(".") or self.runner.in_transaction:
            return False
        try:
            dot = parse_dot(line)
        except ParseError:
            return False  # the runner says what is wrong, with a suggestion
        handler = self._own.get(dot.spec.name)
        if handler is None:
            return False
        try:
            arguments = dot.arguments()
        except ParseError as error:
            self.error(str(error))
            return True
        await handler(arguments)
        return True

    def ask_from_worker(self, question: str) -> bool:
        """The runner's ``ask``: called on the worker thread that runs the
        line, it puts the question at the terminal on the prompt's loop and
        waits for the answer."""
        assert self._loop is not None, "asked outside the prompt's loop"
        future = asyncio.run_coroutine_threadsafe(self.ask(question), self._loop)
        return future.result()

    async def ask(self, question: str) -> bool:
        """A yes/no question at the terminal: only 'y' or 'yes' is yes, and
        only keys typed after it was asked answer it."""
        from qmpshell.runner.safety import is_yes

        early, ahead = early_answer(typed_ahead(self.session.input))
        if early is not None:
            self.note(f"{early!r} was typed before the question, so it does not answer it")
        self.pending.add(ahead)
        try:
            asker: PromptSession[str] = PromptSession(
                input=self.session.input, output=self.session.output,
                key_bindings=paste_waits(self.pending))
            width = self.session.app.output.get_size().columns
            answer = await asker.prompt_async(fit_question(question, width),
                                              handle_sigint=False)
        except (KeyboardInterrupt, EOFError):
            answer = ""
        if not is_yes(answer):
            self._quit_asked = False  # the quit is not run: a loss later is a loss
        return is_yes(answer)

    async def masked_secrets_typed(self, line: str) -> bool:
        """A pasted line of a recording whose secret is the mask: ask for the
        real one without echo (unless --secret or the environment gives it);
        False when the person gives none, and the line is not run."""
        source: SecretSource | None = getattr(self.runner, "secrets", None)
        if source is None or self.runner.in_transaction:
            return True
        from qmpshell.runner.replaysecrets import masked_secrets

        for secret in masked_secrets(self.request_of(line)):
            if source.known(secret) is not None:
                continue
            try:
                asker: PromptSession[str] = PromptSession(
                    input=self.session.input, output=self.session.output)
                value = await asker.prompt_async(f"{secret.name} (masked in the line): ",
                                                 is_password=True, handle_sigint=False)
            except (KeyboardInterrupt, EOFError):
                return False
            source.give(secret, value)
        return True

    def request_of(self, line: str) -> dict[str, Any]:
        """The request a line would send, as the runner's parser reads it
        ({} when it cannot say: the runner reports the error itself)."""
        text = line.strip()
        if self.settings.hmp and not text.startswith("."):
            return {"execute": "human-monitor-command", "arguments": {"command-line": text}}
        if text.startswith(".hmp "):
            return {"execute": "human-monitor-command",
                    "arguments": {"command-line": text[5:].strip()}}
        try:
            from qmpshell.shorthand.parser import parse_line

            schema = self.schema()
            return parse_line(line, schema,
                              allow_unknown=self.connected and not schema.complete) or {}
        except Exception:  # noqa: BLE001 - the runner reports what is wrong with it
            return {}

    # -- output ------------------------------------------------------------------
    def print(self, text: str, color: str = "") -> None:
        """A message above the prompt, through stdout like the runner's output
        so the two keep their order (control characters in ``text`` shown:
        messages quote the server)."""
        text = visible(text)
        if color and self.settings.color:
            text = f"\x1b[{color}m{text}\x1b[0m"
        if self.events_view is not None:
            self.events_view.write(text)  # after the events that came before it
        else:
            self.emit(text)

    def emit(self, text: str) -> None:
        """One message (the runner's output, the prompt's notes): through
        prompt_toolkit above the prompt while one is shown, else straight to
        the terminal, so that a line's output is on the screen before the
        next prompt shows (one typed ahead is entered at once)."""
        self.emit_raw(text + "\n")

    def emit_raw(self, text: str) -> None:
        """:meth:`emit` without the newline: progress lines redrawn in place
        take the same path as the output around them, so they keep their order."""
        if self.session.app.is_running:
            sys.stdout.write(text)
            sys.stdout.flush()
            return
        sys.stdout.flush()
        output = self.session.output
        output.write_raw(text)
        output.flush()

    def error(self, message: str) -> None:
        self.print(f"error: {message}", "31")

    def note(self, message: str) -> None:
        self.print(message, "2")

    def report(self, error: QmpShellError, where: str | None) -> None:
        """The runner's failures, as the prompt shows them."""
        from qmpshell.errors import QMPError

        if isinstance(error, QMPError):
            return  # the reply itself was printed, in the error style
        if error.severity == "warning":
            self.print(f"warning: {error}", "33")
            return
        self.error(str(error))

    async def show_folded(self, _arguments: object = None) -> None:
        """``.events``: the events folded while they came too fast to read."""
        kept, not_kept = self.events_view.take_folded() if self.events_view else ([], 0)
        if not kept and not not_kept:
            self.note("no folded events")
            return
        if not_kept:
            self.note(f"{not_kept:,} older folded events were not kept "
                      f"(the newest {len(kept):,} are)")
        text = "\n".join(kept)
        if self.pager or text.count("\n") + 1 >= shutil.get_terminal_size().lines:
            await page(text, self._pager, self.emit)
        else:
            self.emit(text)

    async def set_pager(self, on: bool | None) -> None:
        """``.pager on|off`` (None: say which)."""
        if on is not None:
            self.pager = on
        self.note(f"pager {'on' if self.pager else 'off'}")

    @contextlib.asynccontextmanager
    async def _paged(self) -> AsyncIterator[None]:
        """With ``.pager on``: collect the line's output and show it through
        the pager when it is taller than the terminal; the loop goes on
        meanwhile, events held until the pager exits."""
        if not self.pager:
            yield
            return
        collected: list[str] = []
        out, self.runner.out = self.runner.out, collected.append
        try:
            yield
        finally:
            self.runner.out = out
            text = "\n".join(collected)
            rows = shutil.get_terminal_size().lines
            if text and text.count("\n") + 1 >= rows:
                self._paging = True
                try:
                    await page(text, self._pager, out)
                finally:
                    self._paging = False
            elif text:
                out(text)

    @contextlib.contextmanager
    def _interruptible(self) -> Iterator[None]:
        """Ctrl-C while a line runs (a ``.wait``, a slow command) cancels that
        line, not the shell; at the prompt it is a key that clears the line."""
        loop = asyncio.get_running_loop()

        def interrupt() -> None:
            if self._running:
                self._interrupt_line()
            elif self.session.app.is_running:  # a SIGINT from elsewhere: as the key
                self.session.app.exit(exception=KeyboardInterrupt(), style="class:aborting")

        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(signal.SIGINT, interrupt)
        try:
            yield
        finally:
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.remove_signal_handler(signal.SIGINT)

    # -- the connection ------------------------------------------------------------
    def _interrupt_line(self, line: int | None = None) -> None:
        """Ctrl-C while a line runs: wake its waits (an @all line waits on
        every VM), and again every 0.1 s until that line has ended (its
        worker may be between two waits)."""
        line = self._lines_run if line is None else line
        if not self._running or line != self._lines_run:
            return
        for member in self.runner.vms:
            member.connection.interrupt()
        asyncio.get_running_loop().call_later(0.1, self._interrupt_line, line)

    async def _lookup(self, request: dict[str, Any],
                      conn: QmpConnection | None = None) -> dict[str, Any]:
        """Completion look-ups go through the current connection (in a
        worker thread, like lines, unless it can answer on the loop)."""
        conn = conn or self.runner.connection
        if conn is None or not conn.connected:
            raise ConnectError("not connected")
        return await execute_on_loop(conn, request)

    def _watch(self) -> None:
        """Print events above the prompt as they arrive, from every VM; say
        so when a connection is lost."""
        for member in self.runner.vms:
            conn = member.connection
            watch = getattr(conn, "watch", None)
            if watch is None or any(c is conn for c in self._watched):
                continue
            self._watched.append(conn)
            watch(self._on_activity)

    def _on_activity(self) -> None:
        """Events arrived or a connection went (on the loop): print them
        unless a line is running (its worker prints them in order)."""
        if self._running or self._paging or self._closing or self.runner.connection is None:
            return
        self.runner.drain_events()
        for member in self.runner.vms:
            conn = member.connection
            if not any(c is conn for c in self._watched):
                continue
            reason = conn.lost_reason()
            if reason is not None:
                self.say_lost(conn, f"connection lost: {reason}")
                self.session.app.invalidate()

    def _said(self, conn: QmpConnection) -> bool:
        return any(c is conn for c in self._loss_said)

    def _member_of(self, conn: QmpConnection | None) -> Any:
        return next((m for m in self.runner.vms if m.connection is conn), None)

    def _again(self, conn: QmpConnection | None) -> str:
        """How to reconnect ``conn``: ``.connect NAME`` among several VMs."""
        member = self._member_of(conn)
        if member is not None and len(self.runner.vms) > 1:
            return f".connect {member.name}"
        return ".connect [ADDRESS]"

    def say_lost(self, conn: QmpConnection | None, message: str) -> None:
        """A lost connection, said once however many parts notice it; after
        a quit the person asked for, that the VM quit."""
        if conn is not None and self._said(conn):
            return
        if conn is not None:
            self._loss_said.append(conn)
        member = self._member_of(conn)
        if member is not None and len(self.runner.vms) > 1 and \
                not message.startswith(f"{member.name}: "):
            message = f"{member.name}: {message}"
        if self._quit_asked:
            self.note("The VM quit. Type .connect ADDRESS to connect to another.")
        else:
            self.error(f"{message}. Type {self._again(conn)} to reconnect.")

    def _greet(self) -> None:
        """The banner, above the first prompt (only a person sees the prompt)."""
        conn = self.runner.connection
        if not self._greeted and len(self.runner.vms) > 1:
            asyncio.ensure_future(self._say_fleet())
        elif not self._greeted and conn is not None and conn.connected:
            width = self.session.app.output.get_size().columns
            asyncio.ensure_future(self._say_connected(
                conn, lambda described: banner(described, width)))
        self._greeted = True

    async def _say_fleet(self) -> None:
        """The banner of several VMs: each described over its own connection,
        all at once."""
        members = list(self.runner.vms)

        async def described(conn: QmpConnection) -> str:
            if not conn.connected:
                return "not connected"
            with contextlib.suppress(QmpShellError, OSError):
                return await self.describe(conn)
            return conn.name

        texts = await asyncio.gather(*(described(m.connection) for m in members))
        self.print(fleet_banner([(m.name, text) for m, text in zip(members, texts, strict=True)]))

    async def _say_connected(self, conn: QmpConnection, sentence: Callable[[str], str]) -> None:
        with contextlib.suppress(QmpShellError, OSError):
            self.print(sentence(await self.describe(conn)))

    async def describe(self, conn: QmpConnection) -> str:
        """'QEMU 7.2.22 (x86_64) at /path.sock' (the architecture asked of
        QEMU, briefly: without it the sentence still says the rest)."""
        schema = self.runner.schema
        if self.settings.agent and schema is not None:
            return f"the {schema.source} at {conn.name}"  # 'the guest agent 7.2.22 at ...'
        arch = ""
        if conn.greeting is not None:
            with contextlib.suppress(QmpShellError, OSError, asyncio.TimeoutError):
                reply = await asyncio.wait_for(self._lookup({"execute": "query-target"}, conn),
                                               2.0)
                target = reply.get("return")
                arch = str(target.get("arch", "")) if isinstance(target, dict) else ""
        return describe_server(conn.greeting, arch, conn.name,
                               domain=getattr(conn, "kind", "") == "libvirt")

    def _stop_watching(self, conn: QmpConnection | None = None) -> None:
        """Stop watching ``conn`` (None: every connection)."""
        for watched in list(self._watched):
            if conn is None or watched is conn:
                watch = getattr(watched, "watch", None)
                if watch is not None:
                    watch(None)
                self._watched.remove(watched)

    async def connect(self, spec: str | None) -> None:
        """``.connect [[NAME=]ADDRESS]`` (``Runner.connect_plan`` says what it
        means).  QEMU's monitor serves one client at a time, so a connection
        it replaces to the same server (or a dead one) is closed first;
        another server's is closed once the new one works."""
        if spec is None and self.runner.connection is None and self.settings.address:
            spec = self.settings.address
        try:
            name, target, replaced = self.runner.connect_plan(spec)
        except QmpShellError as error:
            self.error(str(error))
            return
        old = replaced.connection if replaced is not None else None
        first = old is not None and let_go_first(old, target)
        if first and old is not None:
            self._stop_watching(old)
            self._loss_said.append(old)  # closed on purpose: nothing to report
            with contextlib.suppress(Exception):
                old.close()
        try:
            reopen = getattr(old, "reopen", None)
            if reopen is not None and old is not None and target == old.name:
                conn = await asyncio.get_running_loop().run_in_executor(None, reopen)
            else:
                conn = await (self._reconnect or self._default_reconnect)(target)
        except ConnectError as error:
            self.error(str(error))
            return
        if replaced is not None and old is not None:
            self._stop_watching(old)
            if old is not conn and not first:
                with contextlib.suppress(Exception):
                    old.close()
            replaced.connection = conn
        else:
            replaced = self.runner.attach(name, conn)
        self._quit_asked = False
        if replaced is self.runner.vms.current:
            self.live.forget()
        self._watch()
        label = f"{name}: " if len(self.runner.vms) > 1 else ""
        await self._say_connected(conn, lambda described: f"{label}connected to {described}")
        await self._load_schema(conn)

    async def _load_schema(self, conn: QmpConnection) -> None:
        """Read the new server's schema in the background (from the cache
        when it knows this QEMU), so the prompt comes back at once."""
        await self._stop_schema_loading()
        if self._schemas is not None:
            self._schema_task = asyncio.ensure_future(self._follow_schemas(conn))

    async def _follow_schemas(self, conn: QmpConnection) -> None:
        source = self._schemas
        assert source is not None
        try:
            async for schema in source(conn):
                member = self._member_of(conn)
                if member is None:
                    return
                if member is self.runner.vms.current:
                    self.runner.use_schema(schema)
                member.schema = schema
                self.session.app.invalidate()
                await asyncio.sleep(SCHEMA_CHECK_PAUSE)
        except (QmpShellError, OSError):
            pass  # the connection went away: the watcher says so

    async def _stop_schema_loading(self) -> None:
        if self._schema_task is not None:
            self._schema_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._schema_task
            self._schema_task = None

    async def _default_reconnect(self, address: str) -> QmpConnection:
        raise QmpShellError(".connect is not available in this prompt")


# -- parts -------------------------------------------------------------------------

def key_bindings(tab: TabKey | None, pending: PendingInput) -> KeyBindings:
    """Tab as readline does it (:class:`~qmpshell.prompt.keys.TabKey`); a
    paste of several lines runs them one by one."""
    kb = KeyBindings()

    @kb.add(Keys.BracketedPaste)
    def _(event: KeyPressEvent) -> None:
        paste(event.current_buffer, event.data, pending)

    @kb.add("tab", filter=~is_searching)
    def _(event: KeyPressEvent) -> None:
        if tab is not None:
            tab(event.current_buffer)
        else:
            event.current_buffer.start_completion(insert_common_part=True)

    return kb


def fit_question(question: str, width: int) -> str:
    """A question wider than the terminal asks on a line of its own ("Run
    it? [y/N]" under the reason), rather than where the terminal cuts it."""
    if len(question) <= width or ". " not in question.rstrip():
        return question
    reason, _, ask = question.rstrip().rpartition(". ")
    return f"{reason}.\n{ask} "


def paste_waits(pending: PendingInput) -> KeyBindings:
    """For a question: a paste is not its answer, it waits its turn."""
    kb = KeyBindings()

    @kb.add(Keys.BracketedPaste)
    def _(event: KeyPressEvent) -> None:
        pending.add(event.data)

    return kb


class PromptLexer(Lexer):
    """The shorthand lexer for the input line, with the live schema, so an
    unknown command shows in the error style as it is typed."""

    def __init__(self, schema: Callable[[], Schema], in_transaction: Callable[[], bool],
                 problem: Callable[[str], int] = lambda text: -1,
                 target_schema: Callable[[str], Schema] | None = None) -> None:
        """``problem``: where the word the parser refuses starts (-1: none),
        shown in the error style.  ``target_schema``: the schema of an
        ``@TARGET line``'s VM, which knows the commands after the target."""
        self._schema = schema
        self._in_transaction = in_transaction
        self._problem = problem
        self._target_schema = target_schema

    def lex_document(self, document: Document) -> Callable[[int], StyleAndTextTuples]:
        schema: Schema | None = self._schema()
        text = line = document.text
        at = None if self._in_transaction() else typed_target(text)
        if at is not None and at[1] >= 0 and self._target_schema is not None:
            schema, line = self._target_schema(at[0]), text[at[1]:]
        if schema is not None and line.strip() and line.lstrip() == line.strip() and \
                " " not in line.strip() and typing_prefix_of(line.strip(), schema):
            schema = None  # a command name still being typed is not an error yet
        lexer = ShorthandLexer(schema=schema, transaction=self._in_transaction(),
                               stripnl=False, ensurenl=False)
        fragments: StyleAndTextTuples = [
            (f"class:{pygments_token_to_classname(token)}", text)
            for token, text in lexer.get_tokens(document.text)]
        start = self._problem(text)
        if start >= 0:
            fragments = mark_word(fragments, start, "class:pygments.error")
        lines = list(split_lines(fragments))
        return lambda i: lines[i] if i < len(lines) else []


class LineProblem:
    """What the parser refuses in the line being typed, for the toolbar (the
    message) and the input line (where the offending word starts); the last
    line's answer is kept, as both ask at each redraw."""

    def __init__(self, schema: Callable[[], Schema], allow_unknown: Callable[[], bool],
                 in_transaction: Callable[[], bool],
                 target_schema: Callable[[str], Schema] | None = None) -> None:
        """``target_schema``: the schema of an ``@TARGET line``'s VM, which
        checks the line after the target."""
        self._schema = schema
        self._allow_unknown = allow_unknown
        self._in_transaction = in_transaction
        self._target_schema = target_schema
        self._last: tuple[str, Schema, str | None, int] | None = None

    def _check(self, text: str) -> tuple[str | None, int]:
        schema, start = self._schema(), 0
        at = typed_target(text) if self._target_schema is not None else None
        if at is not None and self._target_schema is not None:
            if at[1] < 0:
                return None, -1  # the target is still being typed
            schema, start = self._target_schema(at[0]), at[1]
        if self._last is not None and self._last[0] == text and self._last[1] is schema:
            return self._last[2], self._last[3]
        message, column = parse_problem(text[start:], schema, self._allow_unknown())
        if column >= 0:
            column += start
        self._last = (text, schema, message, column)
        return message, column

    def message(self, text: str) -> str | None:
        return self._check(text)[0]

    def column(self, text: str) -> int:
        """0-based start of the offending word, -1 when there is none to show
        (a line still being typed, a missing argument)."""
        if self._in_transaction() or not text.strip():
            return -1
        start = self._check(text)[1]
        if start < 0:
            return -1
        words = text[:start].split()
        tail = text[start:].split()
        token = (words[-1] if words and not text[start - 1].isspace() else "") + \
            (tail[0] if tail and not text[start].isspace() else "")
        if "=" not in token and len(tail) <= 1 and not text[-1].isspace():
            return -1  # a name still being typed
        return start


def parse_problem(text: str, schema: Schema, allow_unknown: bool) -> tuple[str | None, int]:
    """The parser's complaint about ``text`` (without its column, and without
    the command name the toolbar shows anyway) and the 0-based column of the
    word it is about (-1: the line as a whole)."""
    from qmpshell.errors import ParseError
    from qmpshell.shorthand.parser import parse_line

    try:
        parse_line(text, schema, allow_unknown=allow_unknown)
    except ParseError as error:
        message = error.message
        command = text.split(None, 1)[0] if text.strip() else ""
        if command and message.startswith(f"{command}: "):
            message = message[len(command) + 2:]
        return message, error.column - 1 if error.column > 1 else -1
    except QmpShellError as error:
        return str(error), -1
    except Exception:  # noqa: BLE001 - a half-typed line must never break the toolbar
        return None, -1
    return None, -1


def mark_word(fragments: StyleAndTextTuples, start: int, style: str) -> StyleAndTextTuples:
    """``fragments`` with the word starting at column ``start`` (up to the
    next blank) in ``style``."""
    text = "".join(f[1] for f in fragments)
    end = start
    while end < len(text) and not text[end].isspace():
        end += 1
    out: StyleAndTextTuples = []
    at = 0
    for fragment in fragments:
        piece_style, piece = fragment[0], fragment[1]
        for i, ch in enumerate(piece):
            inside = start <= at + i < end
            out.append((style if inside else piece_style, ch))
        at += len(piece)
    return _merge(out)


def _merge(fragments: StyleAndTextTuples) -> StyleAndTextTuples:
    out: StyleAndTextTuples = []
    for style, text, *_ in fragments:
        if out and out[-1][0] == style:
            out[-1] = (style, out[-1][1] + text)
        else:
            out.append((style, text))
    return out


def line_check(schema: Schema, allow_unknown: bool) -> LineCheck | None:
    """The shorthand parser as the toolbar's check of a whole line."""
    from qmpshell.shorthand.parser import parse_line

    def check(line: str) -> str | None:
        try:
            parse_line(line, schema, allow_unknown=allow_unknown)
        except QmpShellError as error:
            return str(error)
        except Exception:  # noqa: BLE001 - a half-typed line must never break the toolbar
            return None
        return None
    return check


def make_history(path: str | Path | None, size: int | None, *, hmp: bool = False,
                 on_error: Callable[[str], None] | None = None) -> History:
    """The history file at ``path`` (masked, see :class:`MaskedFileHistory`);
    in memory when there is none or it cannot be made (said once, via ``on_error``)."""
    if path is None or size == 0:
        return InMemoryHistory()
    try:
        return MaskedFileHistory(path, limit=size or 10000, hmp=hmp, on_error=on_error)
    except OSError as error:
        if on_error is not None:
            on_error(f"history file {path}: cannot create its directory: "
                     f"{error.strerror or error}; history is kept for this session only")
        return InMemoryHistory()


def make_style(name: str) -> Any:
    try:
        pygments_style = style_from_pygments_cls(get_style_by_name(name))
    except ClassNotFound:
        pygments_style = style_from_pygments_cls(get_style_by_name("default"))
    return merge_styles([pygments_style, Style.from_dict(UI_STYLE)])
