"""Entry point: parse the command line, wire the parts, map errors to exit codes.

This is the one place that reads the environment and the terminal, and the
one place that turns errors into messages and exit statuses:

    0  every line succeeded
    1  a line failed (a QMP error, a line that could not be parsed, a .wait timeout)
    2  bad command-line usage (also: unreadable session file, log file or schema)
    3  could not connect, or the connection was lost (also: QEMU missing for --spawn)

Scripted runs (-c, -f, stdin) are synchronous over the blocking driver and
import no asyncio, prompt_toolkit or pygments; only the prompt starts an
event loop (and the asyncio driver).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import signal
import sys
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator, Sequence

from qmpshell.cli.config import (
    Setting,
    apply_to_args,
    config_path,
    format_config,
    load_config,
    merge_settings,
)
from qmpshell.cli.options import build_parser, split_qemu_args
from qmpshell.cli.vms import Named, close_all, open_async, open_blocking
from qmpshell.debug import enable as enable_debug
from qmpshell.debug import note
from qmpshell.errors import CommandTimeout, ConnectError, QmpShellError, SchemaError
from qmpshell.runner.fleet import default_name
from qmpshell.settings import Settings, settings_from_args
from qmpshell.terminaltext import visible

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing
if TYPE_CHECKING:
    import socket
    from typing import Any, TypeVar

    from qmpshell.prompt.prepaint import FirstPrompt
    from qmpshell.runner.live import Terminal
    from qmpshell.runner.pipeline import Runner
    from qmpshell.runner.replaysecrets import SecretSource
    from qmpshell.schema.model import Schema
    from qmpshell.wire.aio import AsyncConnection
    from qmpshell.wire.blocking import BlockingConnection
    from qmpshell.wire.connection import QmpConnection
    from qmpshell.wire.logfile import MessageLog
    from qmpshell.wire.spawn import SpawnedQemu

    T = TypeVar("T")

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_CONNECT = 0, 1, 2, 3

SCRIPT_REPLY_TIMEOUT = 60.0
"""Seconds a scripted run waits for a reply when --timeout is not given, so
that a server that stops answering cannot hang a script for ever."""

SCRIPT_WAIT_TIMEOUT = 60.0
"""Seconds a ``.wait`` without ``timeout=`` waits in a scripted run when
``--timeout`` is not given either: a script must not hang for ever on an
event that never comes.  At the prompt it waits until Ctrl-C."""


class UsageError(QmpShellError):
    """The command line asks for something impossible (exit status 2)."""

    exit_code = EXIT_USAGE


class Terminated(BaseException):  # noqa: N818 - what happened to the run
    """SIGTERM or SIGHUP during a scripted run: unwind in order, then exit
    with 128 + the signal's number."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


# -- messages and exit codes, in one place ---------------------------------
def diagnostic(error: QmpShellError, where: str | None) -> str:
    """``FILE:LINE: error: MESSAGE`` (or ``qmpshell: error: MESSAGE``);
    ``warning:`` for a caution that does not fail the line.  Control
    characters are shown: messages quote the server, the guest, files."""
    return visible(f"{where or 'qmpshell'}: {error.severity}: {error}")


def exit_code(error: QmpShellError) -> int:
    return error.exit_code


def report_to_stderr(error: QmpShellError, where: str | None) -> None:
    sys.stderr.write(diagnostic(error, where) + "\n")
    sys.stderr.flush()


def write_stdout(text: str) -> None:
    out = sys.stdout
    if len(text) < 65536:
        out.write(text + "\n")
    else:  # not text + "\n": a copy of a reply that may be huge
        out.write(text)
        out.write("\n")
    out.flush()


# -- entry point ------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    args_in = list(sys.argv[1:] if argv is None else argv)
    ours, qemu_args = split_qemu_args(args_in)
    args = build_parser().parse_args(ours)
    merged, config_file = read_config(args)
    settings = settings_from_args(apply_to_args(args, merged), qemu_args, env=os.environ,
                                  stdin_tty=sys.stdin.isatty(), stdout_tty=sys.stdout.isatty(),
                                  history_size=merged["history_size"].value)
    if settings.print_config:
        sys.stdout.write(format_config(merged, config_file))
        return EXIT_OK
    if settings.debug:
        enable_debug()
        note("cli", "%s run", "interactive" if settings.interactive else "scripted")
    try:
        check_usage(settings)
        settings = settings._replace(secret_values=read_secret_args(settings.secret_args))
        if settings.interactive and not settings.dry_run:
            import asyncio

            return asyncio.run(_guarded(settings))
        with _signals_end_the_run():
            return run_script(settings)
    except QmpShellError as error:
        report_to_stderr(error, None)
        return exit_code(error)
    except Terminated as stop:
        return 128 + stop.signum
    except KeyboardInterrupt:
        return 128 + signal.SIGINT
    except BrokenPipeError:
        _silence_stdout()
        return EXIT_FAILED


def read_config(args: argparse.Namespace) -> tuple[dict[str, Setting], str]:
    """The config file merged under the command line; its problems are warnings."""
    path = config_path(os.environ, os.path.expanduser("~"))
    values, warnings = load_config(path)
    for warning in warnings:
        sys.stderr.write(visible(f"qmpshell: warning: {warning}") + "\n")
    return merge_settings(values, args), path


def read_secret_args(args: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """``--secret NAME=VALUE`` and ``--secret NAME=@FILE`` (the file's text,
    without its final newline) as (name, value) pairs."""
    values = []
    for arg in args:
        name, eq, value = arg.partition("=")
        if not eq or not name.strip():
            raise UsageError(f"--secret needs NAME=VALUE or NAME=@FILE, not {arg.split('=')[0]!r}")
        if value.startswith("@"):
            try:
                with open(value[1:], encoding="utf-8") as f:
                    value = f.read().removesuffix("\n").removesuffix("\r")
            except (OSError, UnicodeDecodeError) as exc:
                reason = getattr(exc, "strerror", None) or "not a text file"
                raise UsageError(f"--secret {name}: cannot read {value[1:]}: {reason}") from None
        values.append((name.strip(), value))
    return tuple(values)


def secret_source(settings: Settings) -> SecretSource:
    """Where a replay's masked secrets come from: --secret, then
    $QMPSHELL_SECRET_NAME, then (a script run at a terminal) a question
    without echo; the prompt asks for them itself."""
    from qmpshell.runner.replaysecrets import SecretSource

    ask = None
    if not settings.interactive and settings.file != "-" and sys.stdin.isatty():
        ask = ask_secret_at_terminal
    return SecretSource(dict(settings.secret_values), env=os.environ, ask=ask)


def ask_secret_at_terminal(name: str, where: str | None) -> str | None:
    """Read a secret from the terminal without echo; None on Ctrl-D/Ctrl-C."""
    import getpass

    try:
        return getpass.getpass(f"{name} (masked in {where or 'the recording'}): ")
    except (EOFError, KeyboardInterrupt, OSError):
        return None


def check_usage(settings: Settings) -> None:
    """Combinations the parser cannot rule out by itself."""
    if settings.spawn and settings.address:
        raise UsageError("give either ADDRESS or --spawn, not both")
    if settings.qemu_args and not settings.spawn:
        raise UsageError("arguments after -- are QEMU's and need --spawn")
    if settings.spawn and settings.domains:
        raise UsageError("give either --domain or --spawn, not both")
    if settings.libvirt_uri and not settings.domains:
        raise UsageError("--connect URI is for --domain NAME")
    check_addresses(settings.addresses)
    if settings.tls and any("/" in address for _, address in settings.addresses):
        raise UsageError("TLS needs a HOST:PORT address")
    if settings.timeout is not None and settings.timeout < 0:
        raise UsageError("--timeout needs a number of seconds (0: no limit)")
    needs_server = not (settings.dry_run or settings.print_config or (
        settings.list_commands and not (settings.address or settings.domains)))
    if needs_server and not (settings.address or settings.spawn or settings.domains
                             or connects_itself(settings)):
        raise UsageError("no server: give an ADDRESS (UNIX socket path or HOST:PORT), "
                         "--spawn, or --dry-run")


def check_addresses(addresses: Sequence[tuple[str | None, str]]) -> None:
    """Each VM once: a name is given to one address, and an address once
    (QEMU's monitor serves one client at a time, so a second connection to
    it would wait for a greeting that never comes)."""
    from qmpshell.wire.address import same_address

    for i, (name, address) in enumerate(addresses):
        for other_name, other in addresses[:i]:
            if name is not None and name == other_name:
                raise UsageError(f"the name {name!r} is given to two addresses")
            if same_address(address, other):
                raise UsageError(f"{address} is given twice: QEMU's monitor serves one "
                                 "client at a time")


def connects_itself(settings: Settings) -> bool:
    """A script whose -c lines or file open their VMs with .connect needs no
    ADDRESS (the file is read again to run it)."""
    if settings.interactive:
        return False
    lines = list(settings.commands)
    if settings.file is not None and settings.file != "-":
        with contextlib.suppress(OSError, UnicodeDecodeError), \
                open(settings.file, encoding="utf-8") as file:
            lines += file.read().splitlines()
    return any(line.lstrip().startswith(".connect ") for line in lines)


@contextlib.contextmanager
def _signals_end_the_run() -> Iterator[None]:
    """SIGTERM and SIGHUP unwind a scripted run like Ctrl-C does (a spawned
    QEMU is shut down, files are closed)."""
    def stop(signum: int, frame: object) -> None:
        raise Terminated(signum)

    previous = {}
    for signum in (signal.SIGTERM, signal.SIGHUP):
        with contextlib.suppress(ValueError, OSError):
            previous[signum] = signal.signal(signum, stop)
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


# -- scripts: -c, -f, stdin -----------------------------------------------------
def run_script(settings: Settings) -> int:
    """A scripted run, synchronous from start to end: the exit status."""
    if settings.list_commands and not (settings.address or settings.spawn or settings.domains):
        write_stdout("\n".join(load_schema(settings).command_names()))
        return EXIT_OK
    lines = read_sources(settings)
    bundled = FallbackSchema(settings)
    if settings.dry_run or not wants_live_schema(settings):
        bundled()  # a --schema FILE fails before connecting
    if settings.dry_run:
        dry = make_runner(settings, bundled(), None)
        try:
            start_recording(dry, settings)
            return run_scripted(dry, settings, lines)
        finally:
            stop_recording(dry)
    log = open_log(settings.logfile)
    spawned = None
    conn: BlockingConnection | None = None
    opened: list[Named] = []
    runner: Runner | None = None

    def schema_of(conn: QmpConnection) -> Schema:
        if not wants_live_schema(settings):
            return bundled()
        return finish_now(live_schema(conn, bundled(), blocking_execute(conn)))

    def connect(address: str) -> QmpConnection:
        conn = blocking_connection(settings, address, log)
        conn.connect()
        return conn

    try:
        if settings.spawn:
            conn = blocking_connection(settings, "", log)
            spawned, sock = spawn_for(conn, settings)
            try:
                conn.attach(sock)
            except ConnectError as error:
                raise spawned.explain(error) from None
            opened = [(default_name(conn.name), conn, False)]
        else:
            opened = open_blocking(settings, lambda a: blocking_connection(settings, a, log),
                                   log, reply_timeout(settings))
        if settings.agent and opened:
            return run_agent_script(settings, opened[0][1], lines)
        if settings.list_commands:
            return list_live_commands(opened[0][1])
        if not wants_live_schema(settings):
            note("schema", "not reading the server's schema: %s", _why_not_live(settings))
        if opened:
            (name, first, _), rest = opened[0], opened[1:]
            recheck = None
            if wants_live_schema(settings):
                first_schema, recheck = script_schema(first, bundled)
            else:
                first_schema = bundled()
            runner = make_runner(settings, first_schema, first, name=name)
            if recheck is not None:
                checked_runner, checked_first, check = runner, first, recheck
                runner.recheck_schema = lambda: (
                    check() if checked_runner.connection is checked_first else None)
        else:  # the script connects with .connect
            runner, rest = make_runner(settings, bundled(), None), []
        for name, other, explicit in rest:
            runner.attach(name, other, schema_of(other), explicit=explicit)
        runner.connector, runner.schema_of = connect, schema_of
        start_recording(runner, settings)
        return run_scripted(runner, settings, lines)
    except ConnectError as error:
        report_to_stderr(explained(error, settings), runner.where if runner is not None else None)
        return exit_code(error)
    finally:
        if runner is not None:
            stop_recording(runner)
            runner.close_pool()
            opened = [(m.name, m.connection, False) for m in runner.vms]
        if spawned is not None:
            spawned.stop(conn)
            opened = [o for o in opened if o[1] is not conn]
        close_all(opened)
        if log is not None:
            log.close()


def run_agent_script(settings: Settings, conn: QmpConnection,
                     lines: list[tuple[str, Any]]) -> int:
    """-N: the lines against a guest agent, resynchronised first and typed by
    the agent table as its guest-info narrows it."""
    from qmpshell.cli.agentmode import agent_connection, agent_schema

    agent = agent_connection(conn, settings)
    schema = agent_schema(agent)
    if settings.list_commands:
        write_stdout("\n".join(schema.command_names()))
        return EXIT_OK
    runner = make_runner(settings, schema, agent)
    start_recording(runner, settings)
    try:
        return run_scripted(runner, settings, lines)
    except ConnectError as error:
        report_to_stderr(explained(error, settings), runner.where)
        return exit_code(error)
    finally:
        stop_recording(runner)


def run_scripted(runner: Runner, settings: Settings, lines: list[tuple[str, Any]]) -> int:
    """Run -c lines, then the file or stdin; the exit status."""
    for name, source in lines:
        runner.run_lines(StdinLines(runner) if source is None else source, name)
        if runner.stopped:
            break
    return EXIT_FAILED if runner.failed else EXIT_OK


def explained(error: ConnectError, settings: Settings) -> QmpShellError:
    """A reply timeout the user did not set says where it came from."""
    if isinstance(error, CommandTimeout) and settings.timeout is None:
        return CommandTimeout(f"{error} (the default for scripts; --timeout S changes it, "
                              "--timeout 0 waits without end)")
    return error


class FallbackSchema:
    """The schema a scripted run falls back to (:func:`load_schema`), read on
    first use: a warm start takes the server's schema, already documented,
    from the cache and never reads the bundled table."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._schema: Schema | None = None

    def __call__(self) -> Schema:
        if self._schema is None:
            self._schema = load_schema(self._settings)
        return self._schema


def script_schema(conn: QmpConnection, bundled: Callable[[], Schema]
                  ) -> tuple[Schema, Callable[[], Schema | None] | None]:
    """The server's schema for a script, and how to check it later: the
    cached one at once when the cache knows this QEMU build, compared with
    the server's own (``query-qmp-schema``, which QEMU takes a while to
    build) only when a line is refused, so that a QEMU rebuilt with the same
    version string replaces its entry and the line runs again; else the
    freshly introspected one, with nothing left to check."""
    from qmpshell.schema.introspect import live_schemas

    stream = live_schemas(blocking_execute(conn), conn.greeting, bundled, schema_cache_dir())

    def close() -> None:
        with contextlib.suppress(Exception):
            finish_now(stream.aclose())

    try:
        first = finish_now(anext(stream, None))
    except ConnectError:
        close()
        raise
    except QmpShellError as error:
        close()
        note("schema", "the server's schema could not be read (%s): bundled table kept", error)
        return bundled(), None
    if first is None:
        close()
        return bundled(), None
    schema = labelled(first, conn)
    note("schema", "using the server's schema: %s, %d commands", schema.source,
         len(schema.commands))

    def recheck() -> Schema | None:
        try:
            fresh = finish_now(anext(stream, None))
        except ConnectError:
            raise
        except QmpShellError:
            return None
        finally:
            close()
        if fresh is None:
            note("schema", "a line was refused; the server's schema is the cached one")
            return None
        note("schema", "a line was refused; the server's schema changed: reloaded")
        return labelled(fresh, conn)

    return schema, recheck


def blocking_execute(conn: QmpConnection) -> Callable[[dict[str, Any]],
                                                      Coroutine[Any, Any, dict[str, Any]]]:
    """The connection's execute under the async name the schema loader
    takes; it never suspends, so :func:`finish_now` runs it without a loop."""
    async def execute(request: dict[str, Any]) -> dict[str, Any]:
        return conn.execute(request).message
    return execute


def finish_now(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine that never suspends (blocking calls behind an async
    interface) to its end, without an event loop."""
    try:
        coroutine.send(None)
    except StopIteration as done:
        result: T = done.value
        return result
    coroutine.close()
    raise RuntimeError("the coroutine waited for something")


# -- the prompt -------------------------------------------------------------------
async def _guarded(settings: Settings) -> int:
    """Run the prompt, turning SIGTERM (and SIGINT) into an orderly shutdown."""
    import asyncio

    task = asyncio.current_task()
    assert task is not None
    received: list[int] = []
    loop = asyncio.get_running_loop()

    def on_signal(signum: int) -> None:
        received.append(signum)
        task.cancel()

    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, on_signal, signum)
    try:
        return await run_prompt(settings)
    except asyncio.CancelledError:
        if not received:
            raise
        return 128 + received[0]


async def run_prompt(settings: Settings) -> int:
    """The interactive session: the exit status."""
    import asyncio

    # The bundled table is read once the first prompt is painted (it shows
    # sooner); a --schema FILE still fails before connecting.
    schema = bundled = None if settings.schema_file is None else load_schema(settings)
    log = open_log(settings.logfile)
    spawned = None
    conn: AsyncConnection | None = None
    opened: list[Named] = []
    runner: Runner | None = None
    first: FirstPrompt | None = None
    loop = asyncio.get_running_loop()
    try:
        if settings.spawn:
            conn = async_connection(settings, "", log)
            spawned, sock = spawn_for(conn, settings)
            try:
                await conn.attach(sock)
            except ConnectError as error:
                raise spawned.explain(error) from None
            opened = [(default_name(conn.name), conn, False)]
        else:
            opened = await open_async(settings, lambda a: async_connection(settings, a, log),
                                      log, reply_timeout(settings))
        if len(opened) == 1 and not settings.domains:  # the prompt says (QEMU)
            first = paint_first_prompt(settings)
        if bundled is None:
            bundled = load_schema(settings)
        if settings.agent and opened:
            agent, schema = await agent_session(opened[0][1], settings)
            runner = make_runner(settings, schema, agent)
            start_recording(runner, settings)
            return await run_interactive(runner, settings, bundled, first, log)
        if not wants_live_schema(settings):
            note("schema", "not reading the server's schema: %s", _why_not_live(settings))
        schemas = []
        for _, each, _ in opened:
            schema_here = bundled if schema is None else schema
            if wants_live_schema(settings):
                try:
                    schema_here = await live_schema(each, schema_here, async_execute(each),
                                                    checked=False)
                except ConnectError:
                    if first is None:
                        raise
                    # The prompt is on the screen: it says the connection is
                    # lost and offers .connect, as after any later loss.
            schemas.append(schema_here)
        (name, current, _), rest = opened[0], opened[1:]
        runner = make_runner(settings, schemas[0], current, name=name)
        for (name, other, explicit), schema_here in zip(rest, schemas[1:], strict=True):
            runner.attach(name, other, schema_here, explicit=explicit)
        start_recording(runner, settings)
        return await run_interactive(runner, settings, bundled, first, log)
    except ConnectError as error:
        if first is not None:
            first.release()
        report_to_stderr(error, runner.where if runner is not None else None)
        return exit_code(error)
    finally:
        if first is not None:
            first.release()
        if runner is not None:
            stop_recording(runner)
            runner.close_pool()
            opened = [(m.name, m.connection, False) for m in runner.vms]
        if spawned is not None:
            spawned_conn = opened[0][1] if opened else conn
            await loop.run_in_executor(None, spawned.stop, spawned_conn)
            opened = opened[1:]
        close_all(opened)
        if log is not None:
            log.close()


async def agent_session(conn: QmpConnection, settings: Settings) -> tuple[QmpConnection, Schema]:
    """-N at the prompt: the connection resynchronised, and the agent's schema
    (both ask the agent, so in a worker thread, as lines do)."""
    import asyncio

    from qmpshell.cli.agentmode import agent_connection, agent_schema

    loop = asyncio.get_running_loop()
    agent = await loop.run_in_executor(None, agent_connection, conn, settings)
    schema = await loop.run_in_executor(None, agent_schema, agent)
    return agent, schema


async def agent_schemas(conn: QmpConnection) -> AsyncIterator[Schema]:
    """After ``.connect`` in -N mode: the new agent's schema."""
    import asyncio

    from qmpshell.cli.agentmode import agent_schema

    yield await asyncio.get_running_loop().run_in_executor(None, agent_schema, conn)


def async_execute(conn: QmpConnection) -> Callable[[dict[str, Any]],
                                                   Coroutine[Any, Any, dict[str, Any]]]:
    """Execute on the event loop: directly over the asyncio driver, in a
    worker thread over any other connection."""
    from qmpshell.wire.aio import execute_on_loop

    async def execute(request: dict[str, Any]) -> dict[str, Any]:
        return await execute_on_loop(conn, request)
    return execute


def paint_first_prompt(settings: Settings) -> FirstPrompt | None:
    """Show the prompt as soon as the connection is up (qmpshell.prompt.prepaint)."""
    from qmpshell.prompt.prepaint import paint_first_prompt as paint

    return paint(settings.hmp, sys.stdin, sys.stdout, agent=settings.agent)


async def run_interactive(runner: Runner, settings: Settings, bundled: Schema,
                          first: FirstPrompt | None = None,
                          log: MessageLog | None = None) -> int:
    """The prompt (qmpshell.prompt.app), imported only when a person is there;
    it takes over the terminal from the ``first`` prompt painted early."""
    repl = importlib.import_module("qmpshell.prompt.app")
    from qmpshell.prompt.history import default_history_path

    def follow(conn: QmpConnection) -> AsyncIterator[Schema]:
        return live_schemas_of(conn, bundled)

    from qmpshell.prompt.prepaint import handover_input

    async def reconnect(address: str) -> QmpConnection:
        note("connect", ".connect: connecting to %s", address)
        conn = async_connection(settings, address, log)
        try:
            await conn.connect()
            if settings.agent:
                import asyncio

                from qmpshell.cli.agentmode import agent_connection

                return await asyncio.get_running_loop().run_in_executor(
                    None, agent_connection, conn, settings)
        except ConnectError as error:
            note("connect", "%s: %s; the old connection is kept", address, error)
            raise
        note("connect", "connected to %s", address)
        return conn

    from qmpshell.prompt.pager import choose_pager

    status = await repl.run(runner, settings, history_path=default_history_path(os.environ),
                            reconnect=reconnect, pager=choose_pager(os.environ),
                            schemas=agent_schemas if settings.agent
                            else follow if wants_live_schema(settings) else None,
                            input=handover_input(first))
    return int(status)


def start_recording(runner: Runner, settings: Settings) -> None:
    """``--record FILE``: a file that cannot be opened is a usage error."""
    if settings.record is None:
        return
    try:
        runner.start_recording(settings.record)
    except QmpShellError as error:
        raise UsageError(str(error)) from None


def stop_recording(runner: Runner) -> None:
    """Close the recording; a failed last write is reported."""
    try:
        runner.stop_recording()
    except QmpShellError as error:
        report_to_stderr(error, None)


# -- wiring -------------------------------------------------------------------
def read_sources(settings: Settings) -> list[tuple[str, Any]]:
    """(name, lines) pairs in the order they run: -c lines, then -f or stdin."""
    sources: list[tuple[str, Any]] = []
    if settings.commands:
        sources.append(("<command>", list(settings.commands)))
    if settings.file == "-" or (settings.file is None and not settings.commands
                                and not settings.interactive):
        sources.append(("<stdin>", None))  # read as the run goes: StdinLines
    elif settings.file is not None:
        try:
            with open(settings.file, encoding="utf-8", errors="replace", newline="") as f:
                sources.append((settings.file, split_lines(f.read())))
        except OSError as exc:
            raise UsageError(f"cannot read {settings.file}: {exc.strerror}") from None
    return sources


def split_lines(text: str) -> list[str]:
    """The lines of a session file as stdin gives them: split at \\n (a \\r
    before it dropped), never at form feed, U+2028 or other Unicode line
    breaks, so that a comment cannot hide a command and line numbers are
    an editor's."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [_chomp(line) for line in lines]


def _chomp(line: str) -> str:
    """A line without its end: \\n, or \\r\\n."""
    return line.removesuffix("\n").removesuffix("\r")


class StdinLines:
    """Lines of stdin (split at \\n or \\r\\n) as they come; while none is
    there, events from the server are printed as they arrive.  The lines
    already read are known ahead (:meth:`following`) without waiting for
    more, so that a session piped in is sent ahead as a file is."""

    def __init__(self, runner: Runner) -> None:
        self._runner = runner
        self._buffer = b""
        self._start = 0
        """Where the first line not given yet starts in the buffer."""

    def __iter__(self) -> Iterator[str]:
        runner = self._runner
        conn = runner.connection
        fd = sys.stdin.fileno()
        conn_fd = conn.fileno() if conn is not None and hasattr(conn, "fileno") else -1
        import select

        while True:
            newline = self._buffer.find(b"\n", self._start)
            if newline >= 0:
                line = self._buffer[self._start:newline]
                self._start = newline + 1
                yield _stdin_text(line)
                continue
            if conn_fd >= 0 and conn is not None and conn.connected:
                readable, _, _ = select.select([fd, conn_fd], [], [])
                if fd not in readable:
                    conn.poll_events()  # type: ignore[attr-defined]
                    runner.drain_events()
                    continue
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                chunk = b""
            rest = self._buffer[self._start:]
            self._buffer, self._start = rest + chunk, 0
            if not chunk:
                self._buffer = b""
                if rest:
                    yield _stdin_text(rest)
                return

    def following(self, count: int) -> list[str]:
        """Up to ``count`` whole lines after the last one given, of those
        already read (none is waited for)."""
        lines: list[str] = []
        buffer, start = self._buffer, self._start
        while len(lines) < count and (end := buffer.find(b"\n", start)) >= 0:
            lines.append(_stdin_text(buffer[start:end]))
            start = end + 1
        return lines


def _stdin_text(line: bytes) -> str:
    return line.removesuffix(b"\r").decode("utf-8", "replace")


def load_schema(settings: Settings) -> Schema:
    """The --schema file (documented by the bundled table); for a dry run
    without one, the cached schema of the QEMU connected to last; else the
    bundled command table."""
    from qmpshell.schema.table import load_bundled_schema

    if settings.agent and not settings.schema_file:
        from qmpshell.cli.agentmode import agent_table_schema

        note("schema", "the bundled guest-agent table")
        return agent_table_schema()
    try:
        bundled = load_bundled_schema()
        if settings.schema_file:
            from qmpshell.schema.offline import schema_from_file

            note("schema", "using --schema %s", settings.schema_file)
            return schema_from_file(settings.schema_file, bundled)
    except OSError as exc:
        raise SchemaError(f"cannot read {settings.schema_file}: {exc.strerror}") from None
    if settings.dry_run:
        from qmpshell.schema.offline import CACHED_PREFIX, last_connected

        cached = last_connected(schema_cache_dir())
        if cached is not None:
            qemu = cached.source.removeprefix(CACHED_PREFIX)
            sys.stderr.write(visible(f"qmpshell: checking against the schema of QEMU {qemu}, "
                                     "the last one connected to (--schema FILE chooses "
                                     "another)") + "\n")
            note("schema", "dry run: the cached schema of the QEMU connected to last")
            return cached
    note("schema", "the bundled table")
    return bundled


def schema_cache_dir() -> str:
    """``$XDG_CACHE_HOME/qmpshell/schemas`` (default ``~/.cache/...``)."""
    base = os.environ.get("XDG_CACHE_HOME", "")
    root = base if base and os.path.isabs(base) else os.path.join(os.path.expanduser("~"),
                                                                   ".cache")
    return os.path.join(root, "qmpshell", "schemas")


def wants_live_schema(settings: Settings) -> bool:
    """Whether connected runs read the server's schema (not with --schema,
    HMP mode or a server without QMP negotiation)."""
    return not (settings.schema_file or settings.skip_negotiation or settings.hmp)


def _why_not_live(settings: Settings) -> str:
    if settings.skip_negotiation:
        return "guest-agent mode (no query-qmp-schema)"
    if settings.hmp:
        return "HMP mode"
    return "--schema given"


async def live_schema(conn: QmpConnection, bundled: Schema,
                      execute: Callable[[dict[str, Any]], Coroutine[Any, Any, dict[str, Any]]],
                      *, checked: bool = True) -> Schema:
    """The server's own schema (cached on disk per QEMU build) merged with the
    bundled documentation; the bundled table when the server cannot say.
    ``checked``: a cached schema only once the server's digest matched it
    (scripts); else the cached one at once, checked in the background by the
    prompt."""
    from qmpshell.schema.introspect import checked_live_schema, load_live_schema

    load = checked_live_schema if checked else load_live_schema
    try:
        schema = await load(execute, conn.greeting, bundled, schema_cache_dir())
    except ConnectError:
        raise
    except QmpShellError as error:
        note("schema", "the server's schema could not be read (%s): bundled table kept", error)
        return bundled
    schema = labelled(schema, conn)
    note("schema", "using the server's schema: %s, %d commands", schema.source,
         len(schema.commands))
    return schema


async def live_schemas_of(conn: QmpConnection, bundled: Schema) -> AsyncIterator[Schema]:
    """The schemas :func:`live_schema` reads, as they come (the cached one, then
    a fresh one if it differs), for the prompt to load in the background after
    ``.connect``; the bundled table when the server cannot say."""
    from qmpshell.schema.introspect import live_schemas

    stream = live_schemas(async_execute(conn), conn.greeting, bundled, schema_cache_dir())
    try:
        async for schema in stream:
            yield labelled(schema, conn)
    except ConnectError:
        raise
    except QmpShellError:
        yield bundled
    finally:
        await stream.aclose()


def labelled(schema: Schema, conn: QmpConnection) -> Schema:
    """Name the server in the schema's source, for ``.schema``."""
    from qmpshell.schema.cache import format_qemu_version

    version = (conn.greeting or {}).get("QMP", {}).get("version")
    if version:
        schema.source = f"live QEMU {format_qemu_version(version)}"
    return schema


def open_log(path: str | None) -> MessageLog | None:
    if path is None:
        return None
    from qmpshell.wire.logfile import MessageLog

    try:
        return MessageLog.open(path, on_error=lambda text: report_to_stderr(
            QmpShellError(text), None))
    except OSError as exc:
        raise UsageError(f"cannot open the log file {path}: {exc.strerror}") from None


def reply_timeout(settings: Settings) -> float | None:
    """Seconds to wait for a reply: --timeout (0: no limit), else
    :data:`SCRIPT_REPLY_TIMEOUT` in scripts and no limit at the prompt."""
    if settings.timeout is None:
        return None if settings.interactive else SCRIPT_REPLY_TIMEOUT
    return settings.timeout or None


def connection_options(settings: Settings, log: MessageLog | None) -> dict[str, Any]:
    from qmpshell.wire.address import CONNECT_TIMEOUT, TLSOptions

    tls = (TLSOptions(settings.tls_ca, settings.tls_cert, settings.tls_key)
           if settings.tls else None)
    return {"timeout": reply_timeout(settings), "negotiate": not settings.skip_negotiation,
            "tls": tls, "log": log, "warn": warn_on_stderr,
            "connect_timeout": settings.timeout or CONNECT_TIMEOUT, "agent": settings.agent}


def spawn_for(conn: BlockingConnection | AsyncConnection,
              settings: Settings) -> tuple[SpawnedQemu, socket.socket]:
    """``--spawn``: start the QEMU ``conn`` will attach to, and name ``conn``
    after its socket (the scripted and the prompt's driver alike)."""
    from qmpshell.wire.spawn import SpawnedQemu, headless_default

    spawned = SpawnedQemu(settings.qemu_binary, headless_default(settings.qemu_args, os.environ))
    conn.name = str(spawned.socket_path)
    return spawned, spawned.start()


def blocking_connection(settings: Settings, address: str,
                        log: MessageLog | None) -> BlockingConnection:
    from qmpshell.wire.blocking import BlockingConnection

    return BlockingConnection(address, **connection_options(settings, log))


def async_connection(settings: Settings, address: str,
                     log: MessageLog | None) -> AsyncConnection:
    from qmpshell.wire.aio import AsyncConnection

    return AsyncConnection(address, **connection_options(settings, log))


def warn_on_stderr(text: str) -> None:
    sys.stderr.write(visible(f"qmpshell: warning: {text}") + "\n")
    sys.stderr.flush()


def make_runner(settings: Settings, schema: Schema, conn: QmpConnection | None,
                out: Callable[[str], None] = write_stdout, name: str | None = None) -> Runner:
    from qmpshell.runner.pipeline import Runner
    from qmpshell.shorthand.parser import ShorthandParser

    parser = ShorthandParser(schema, allow_unknown=conn is not None and not schema.complete)
    runner = Runner(settings, parser=parser, schema=schema, connection=conn,
                    out=out, report=report_to_stderr, wait_timeout=wait_timeout(settings),
                    name=name)
    if conn is not None:
        runner.terminal = progress_terminal(settings)
    runner.secrets = secret_source(settings)
    return runner


def progress_terminal(settings: Settings) -> Terminal | None:
    """Where live progress (and ``.watch`` redrawn in place) may go: the
    prompt's terminal; in scripts stderr when it is a terminal or with
    --progress, never stdout; nowhere with --no-progress."""
    if settings.progress is False:
        return None
    stderr_tty = _isatty(sys.stderr)
    if not settings.interactive and settings.progress is None and not stderr_tty:
        return None  # before the import: scripts off a terminal never need it
    from qmpshell.runner.live import Terminal

    if settings.interactive:
        return Terminal(write=_write_to(lambda: sys.stdout),
                        columns=lambda: _size(sys.__stdout__).columns,
                        rows=lambda: _size(sys.__stdout__).lines, shares_output=True)
    stderr_tty = _isatty(sys.stderr)
    if settings.progress is None and not stderr_tty:
        return None
    return Terminal(write=_write_to(lambda: sys.stderr),
                    columns=lambda: _size(sys.stderr).columns,
                    rows=lambda: _size(sys.stderr).lines,
                    shares_output=stderr_tty and _same_terminal(sys.stdout, sys.stderr),
                    in_place=stderr_tty)


def _write_to(stream: Callable[[], Any]) -> Callable[[str], None]:
    def write(text: str) -> None:
        target = stream()
        target.write(text)
        target.flush()
    return write


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream is not None and stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False


def _size(stream: Any) -> os.terminal_size:
    try:
        size = os.get_terminal_size(stream.fileno())
    except (AttributeError, ValueError, OSError):
        return os.terminal_size((80, 24))
    return os.terminal_size((size.columns or 80, size.lines or 24))


def _same_terminal(one: Any, other: Any) -> bool:
    """Both streams are the same terminal (output and progress share the screen)."""
    if not (_isatty(one) and _isatty(other)):
        return False
    try:
        return os.fstat(one.fileno()).st_rdev == os.fstat(other.fileno()).st_rdev
    except (AttributeError, ValueError, OSError):
        return False


def wait_timeout(settings: Settings) -> float | None:
    """How long a ``.wait`` without ``timeout=`` waits: ``--timeout``, else
    until Ctrl-C at the prompt and :data:`SCRIPT_WAIT_TIMEOUT` in scripts."""
    if settings.timeout is not None:
        return settings.timeout or None
    return None if settings.interactive else SCRIPT_WAIT_TIMEOUT


def list_live_commands(conn: QmpConnection) -> int:
    reply = conn.execute({"execute": "query-commands"}).message
    names = sorted(c["name"] for c in reply.get("return", []) if isinstance(c, dict))
    write_stdout("\n".join(names))
    return EXIT_OK


def _silence_stdout() -> None:
    """After a closed pipe, stop Python from complaining at exit."""
    with contextlib.suppress(OSError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
