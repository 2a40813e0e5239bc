"""libvirt-managed guests as one more :class:`~qmpshell.wire.connection.QmpConnection`.

libvirt holds a guest's QMP monitor itself; it lends it out through
``libvirt_qemu.qemuMonitorCommand`` (one request, one reply) and
``libvirt_qemu.qemuMonitorEventRegister`` (events).  What differs from a
socket, and how it is bridged here:

- no greeting and no negotiation (libvirt did both): the greeting the rest
  of the shell reads (QEMU's version, for the schema cache and ``.vms``) is
  made from ``query-version``;
- a request carrying its own ``"id"`` is refused, so ids are stripped both
  ways, as on a socket;
- HMP goes through libvirt's HMP flag, no out-of-band execution;
- events: one registration per libvirt connection for every domain (a second
  identical one is refused, and a one-domain registration beside an
  all-domains one receives nothing), dispatched here by domain name;
  libvirt calls back from its event loop, a thread of ours running
  ``virEventRunDefaultImpl`` (also what notices a daemon going away);
- libvirt's own errors would be printed on stderr behind the prompt: an
  error handler keeps them quiet, and each becomes one sentence;
- the libvirt connection closing (daemon stopped, keepalive lost) ends every
  domain reached through it: "connection lost".

libvirt-python is optional (``pip install 'qmpshell[libvirt]'``); this module
is imported only for ``--domain``, and imports libvirt itself only then.
"""

from __future__ import annotations

import contextlib
import fnmatch
import functools
import json
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from qmpshell.errors import CommandTimeout, ConnectError, QmpShellError
from qmpshell.wire.connection import EventBacklog, EventSource, Reply, wait_until

SENT = "sent"
RECEIVED = "received"
Observer = Callable[[str, dict[str, Any]], None]

INSTALL_HINT = ("--domain needs libvirt-python: pip install 'qmpshell[libvirt]' "
                "(it builds against libvirt's headers: apt-get install libvirt-dev "
                "pkg-config gcc)")

KEEPALIVE = (5, 3)
"""Seconds between keepalive probes, and unanswered probes before the
daemon counts as gone."""

_HMP = "human-monitor-command"
_GLOB = frozenset("*?[")


class LibvirtUnavailable(QmpShellError):
    """libvirt-python is not installed (a usage problem: exit 2)."""

    exit_code = 2


def load_libvirt() -> tuple[Any, Any]:
    """The ``libvirt`` and ``libvirt_qemu`` modules, made quiet and given an
    event loop (once per process: libvirt's own state is per process)."""
    try:
        import libvirt
        import libvirt_qemu
    except ImportError:
        raise LibvirtUnavailable(INSTALL_HINT) from None
    _start_event_loop(libvirt)
    return libvirt, libvirt_qemu


@functools.cache
def _start_event_loop(libvirt: Any) -> threading.Thread:
    """Silence libvirt's stderr reports and run its default event loop in a
    daemon thread; must precede the first ``libvirt.open``."""
    libvirt.registerErrorHandler(lambda _ctx, _err: None, None)
    libvirt.virEventRegisterDefaultImpl()

    def run() -> None:
        while True:
            libvirt.virEventRunDefaultImpl()

    thread = threading.Thread(target=run, name="libvirt-events", daemon=True)
    thread.start()
    return thread


def libvirt_message(exc: BaseException) -> str:
    """libvirt's error as one line (its messages may span several)."""
    get = getattr(exc, "get_error_message", None)
    text = (get() if callable(get) else None) or str(exc) or type(exc).__name__
    return " ".join(str(text).split())


class LibvirtHost:
    """One libvirt connection (a URI), shared by the domains reached through
    it, with one monitor-event registration dispatched by domain name."""

    def __init__(self, uri: str | None, *, timeout: float | None = None,
                 log: Observer | None = None) -> None:
        self.uri = uri
        self.timeout = timeout
        self.log = log
        self._libvirt, self._qemu = load_libvirt()
        self._conn: Any = None
        self._domains: dict[str, LibvirtConnection] = {}
        self._callbacks: list[tuple[str, int]] = []
        self._lost: str | None = None
        self._lock = threading.Lock()
        self._executor: ThreadPoolExecutor | None = None

    @property
    def shown_uri(self) -> str:
        """The URI as the user would type it (libvirt's default spelled out)."""
        if self.uri:
            return self.uri
        with contextlib.suppress(Exception):
            if self._conn is not None:
                return str(self._conn.getURI())
        return "libvirt's default URI"

    def open(self) -> LibvirtHost:
        libvirt = self._libvirt
        try:
            self._conn = libvirt.open(self.uri)
        except libvirt.libvirtError as exc:
            raise ConnectError(f"{self.shown_uri}: {libvirt_message(exc)}") from None
        with contextlib.suppress(libvirt.libvirtError):
            self._conn.setKeepAlive(*KEEPALIVE)
        try:
            self._conn.registerCloseCallback(self._on_close, None)
            self._callbacks.append(("monitor", self._qemu.qemuMonitorEventRegister(
                self._conn, None, None, self._on_monitor_event, None, 0)))
            self._callbacks.append(("domain", self._conn.domainEventRegisterAny(
                None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, self._on_lifecycle, None)))
        except libvirt.libvirtError as exc:
            self.close()
            raise ConnectError(f"{self.shown_uri}: {libvirt_message(exc)}") from None
        self._executor = ThreadPoolExecutor(max_workers=8, thread_name_prefix="libvirt-call")
        return self

    # -- domains ------------------------------------------------------------
    def match(self, patterns: list[str]) -> list[str]:
        """Domain names for ``patterns``: a name as given, or a glob matched
        against the running domains (in name order); ConnectError when
        nothing matches."""
        libvirt = self._libvirt
        names: list[str] = []
        try:
            running = None
            for pattern in patterns:
                if _GLOB & set(pattern):
                    if running is None:
                        running = sorted(d.name() for d in self._conn.listAllDomains(
                            libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE))
                    found = fnmatch.filter(running, pattern)
                    if not found:
                        raise ConnectError(f"{self.shown_uri}: no running domain matches "
                                           f"{pattern!r}")
                else:
                    found = [pattern]
                names += [n for n in found if n not in names]
        except libvirt.libvirtError as exc:
            raise ConnectError(f"{self.shown_uri}: {libvirt_message(exc)}") from None
        return names

    def attach(self, name: str, *, agent: bool = False) -> LibvirtConnection:
        """A connection to the monitor of the running domain ``name`` (with
        ``agent``, to its guest agent, through libvirt's agent channel)."""
        libvirt = self._libvirt
        try:
            domain = self._conn.lookupByName(name)
            active = domain.isActive()
        except libvirt.libvirtError as exc:
            if exc.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
                raise ConnectError(f"{self.shown_uri}: no domain named {name!r}") from None
            raise ConnectError(f"{self.shown_uri}: {libvirt_message(exc)}") from None
        if not active:
            raise ConnectError(f"{name}: the domain is not running (virsh start {name})")
        conn = LibvirtConnection(self, name, domain, agent=agent)
        with self._lock:
            self._domains[name] = conn
        try:
            conn.start()
        except BaseException:
            conn.close()
            raise
        return conn

    def detach(self, conn: LibvirtConnection) -> None:
        with self._lock:
            if self._domains.get(conn.name) is conn:
                del self._domains[conn.name]
            last = not self._domains
        if last:
            self.close()

    # -- calls --------------------------------------------------------------
    def call(self, domain: Any, text: str, hmp: bool, agent: bool = False) -> Future[str]:
        """Send ``text`` to ``domain``'s monitor (or with ``agent`` to its
        guest agent) from a worker thread (libvirt blocks), so that the
        caller can time out or be interrupted."""
        assert self._executor is not None
        if agent:
            wait = self._qemu.VIR_DOMAIN_QEMU_AGENT_COMMAND_DEFAULT
            return self._executor.submit(self._qemu.qemuAgentCommand, domain, text, wait, 0)
        flags = self._qemu.VIR_DOMAIN_QEMU_MONITOR_COMMAND_HMP if hmp else 0
        return self._executor.submit(self._qemu.qemuMonitorCommand, domain, text, flags)

    def alive(self) -> bool:
        if self._lost is not None or self._conn is None:
            return False
        try:
            return bool(self._conn.isAlive())
        except self._libvirt.libvirtError:
            return False

    @property
    def lost(self) -> str | None:
        return self._lost

    # -- callbacks (libvirt's event loop thread) ----------------------------
    def _on_monitor_event(self, _conn: Any, domain: Any, event: str, seconds: int,
                          micros: int, details: Any, _opaque: Any) -> None:
        message: dict[str, Any] = {"event": event}
        if details is not None:
            message["data"] = json.loads(details) if isinstance(details, str) else details
        message["timestamp"] = {"seconds": seconds, "microseconds": micros}
        target = self._domains.get(domain.name())
        if target is not None:
            target.deliver(message)

    def _on_lifecycle(self, _conn: Any, domain: Any, event: int, _detail: int,
                      _opaque: Any) -> None:
        if event == self._libvirt.VIR_DOMAIN_EVENT_STOPPED:
            target = self._domains.get(domain.name())
            if target is not None:
                target.lose("the domain stopped")

    def _on_close(self, _conn: Any, reason: int, _opaque: Any) -> None:
        libvirt = self._libvirt
        self._lost = {
            libvirt.VIR_CONNECT_CLOSE_REASON_EOF: "the libvirt daemon closed the connection",
            libvirt.VIR_CONNECT_CLOSE_REASON_KEEPALIVE: "the libvirt daemon stopped answering",
            libvirt.VIR_CONNECT_CLOSE_REASON_CLIENT: "the connection was closed",
        }.get(reason, "the connection to the libvirt daemon failed")
        for conn in list(self._domains.values()):
            conn.lose(self._lost)

    # -- closing ------------------------------------------------------------
    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        with contextlib.suppress(Exception):
            for kind, callback_id in self._callbacks:
                if kind == "monitor":
                    self._qemu.qemuMonitorEventDeregister(conn, callback_id)
                else:
                    conn.domainEventDeregisterAny(callback_id)
        self._callbacks.clear()
        with contextlib.suppress(Exception):
            conn.unregisterCloseCallback()
        with contextlib.suppress(Exception):
            conn.close()
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)


class LibvirtConnection(EventSource):
    """The QMP monitor of one running libvirt domain (see the module doc)."""

    kind = "libvirt"

    def __init__(self, host: LibvirtHost, name: str, domain: Any, *, agent: bool = False) -> None:
        self.host = host
        self.agent = agent
        """Talk to the domain's guest agent (libvirt syncs with it itself)."""
        self._name = name
        self._domain = domain
        self.timeout = host.timeout
        self._greeting: dict[str, Any] | None = None
        self._events = EventBacklog()
        self._seq = 0
        self._lock = threading.Lock()
        self._lost: str | None = None
        self._closed = False
        self._interrupts = 0
        self._cond = threading.Condition()
        self._watcher: Callable[[], None] | None = None

    def start(self) -> None:
        """Read QEMU's version for the greeting the rest of the shell expects
        (a guest agent has no greeting)."""
        if self.agent:
            return
        reply = self.execute({"execute": "query-version"}).message
        version = reply.get("return")
        self._greeting = {"QMP": {"version": version if isinstance(version, dict) else {},
                                  "capabilities": []}}

    # -- the QmpConnection interface -----------------------------------------
    @property
    def name(self) -> str:
        return self._name

    @property
    def address(self) -> str:
        """Where it is: the domain on its URI, for ``.vms``."""
        return f"{self.host.shown_uri} {self._name}"

    @property
    def greeting(self) -> dict[str, Any] | None:
        return self._greeting

    @property
    def connected(self) -> bool:
        return not self._closed and self._lost is None and self.host.lost is None

    def execute(self, request: dict[str, Any], timeout: float | None = None) -> Reply:
        reason = self.lost_reason()
        if reason is not None:
            raise ConnectError(f"connection lost: {reason}")
        request = {k: v for k, v in request.items() if k != "id"}
        if "exec-oob" in request:
            return self._reply({"error": {"class": "GenericError", "desc":
                                          "out-of-band execution is not available "
                                          "through libvirt"}})
        hmp = None if self.agent else _hmp_line(request)
        if self.host.log is not None:
            self.host.log(SENT, request)
        future = self.host.call(self._domain, hmp if hmp is not None else json.dumps(request),
                                hmp is not None, agent=self.agent)
        generation = self._interrupts
        future.add_done_callback(lambda _f: self._nudge())
        limit = self.timeout if timeout is None else timeout
        deadline = None if limit is None else time.monotonic() + limit
        if not self._sleep_until(future.done, deadline, generation):
            name = request.get("execute", "?")
            raise CommandTimeout(f"no reply to {name} within {limit:g} s")
        exc = future.exception()
        if exc is not None:
            return self._failed(exc)
        text = future.result()
        if hmp is not None:
            return self._reply({"return": text})
        try:
            message = json.loads(text)
        except ValueError:
            message = None
        if not isinstance(message, dict):
            raise ConnectError(f"{self._name}: libvirt passed on a reply that is not a "
                               "JSON object")
        message.pop("id", None)
        return self._reply(message)

    def take_events(self, before: int | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return self._events.take(before)

    def wait_events(self, timeout: float | None = None) -> bool:
        deadline = None if timeout is None else time.monotonic() + timeout
        self._sleep_until(lambda: bool(self._events) or not self.connected, deadline,
                          self._interrupts)
        return bool(self._events)

    def lost_reason(self) -> str | None:
        if self._closed:
            return "the connection was closed"
        return self._lost or self.host.lost

    def interrupt(self) -> None:
        with self._cond:
            self._interrupts += 1
            self._cond.notify_all()

    def watch(self, callback: Callable[[], None] | None) -> None:
        """Call ``callback`` on the calling thread's asyncio loop (the
        prompt's) whenever events arrive or the connection goes; None stops."""
        if callback is None:
            self._watcher = None
            return
        import asyncio

        loop = asyncio.get_running_loop()

        def wake() -> None:
            with contextlib.suppress(RuntimeError):  # the loop is closing
                loop.call_soon_threadsafe(callback)

        self._watcher = wake

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._nudge()
        self.host.detach(self)

    def reopen(self) -> LibvirtConnection:
        """A new connection to the same domain through a new libvirt
        connection (``.connect`` after the daemon came back)."""
        [conn] = open_domains(self.host.uri, [self._name], timeout=self.host.timeout,
                              log=self.host.log)
        return conn

    # -- from libvirt's event loop thread ------------------------------------
    def deliver(self, event: dict[str, Any]) -> None:
        with self._lock:
            self._seq += 1
            self._events.add(self._seq, event)
        if self.host.log is not None:
            self.host.log(RECEIVED, event)
        self._nudge(watchers=True)

    def lose(self, reason: str) -> None:
        if self._lost is None:
            self._lost = reason
        self._nudge(watchers=True)

    # -- helpers ---------------------------------------------------------------
    def _reply(self, message: dict[str, Any]) -> Reply:
        with self._lock:
            self._seq += 1
            seq = self._seq
        if self.host.log is not None:
            self.host.log(RECEIVED, message)
        return Reply(message, seq)

    def _failed(self, exc: BaseException) -> Reply:
        """A libvirt error: the connection or the domain went away
        (ConnectError), or libvirt refused this one request (an error reply)."""
        libvirt = self.host._libvirt
        if not self.host.alive():
            self.lose(self.host.lost or "the connection to the libvirt daemon failed")
            raise ConnectError(f"connection lost: {self.lost_reason()}")
        try:
            active = bool(self._domain.isActive())
        except libvirt.libvirtError:
            active = False
        if not active:
            self.lose("the domain is not running")
            raise ConnectError(f"connection lost: {self.lost_reason()}")
        return self._reply({"error": {"class": "GenericError",
                                      "desc": f"libvirt: {libvirt_message(exc)}"}})

    def _nudge(self, watchers: bool = False) -> None:
        """Wake every waiting call (a line and a completion look-up may both
        wait); with ``watchers``, the prompt's watcher too."""
        with self._cond:
            self._cond.notify_all()
        watcher = self._watcher
        if watchers and watcher is not None:
            watcher()

    def _sleep_until(self, ready: Callable[[], bool], deadline: float | None,
                     generation: int) -> bool:
        """Wait until ``ready()``; False when ``deadline`` passed first.
        Raises Interrupted once :meth:`interrupt` was called after the wait
        began (``generation``)."""
        with self._cond:
            return wait_until(self._cond, ready, deadline,
                              lambda: self._interrupts != generation)


def _hmp_line(request: dict[str, Any]) -> str | None:
    """The monitor line of a plain human-monitor-command request (sent with
    libvirt's HMP flag), else None."""
    if request.get("execute") != _HMP:
        return None
    arguments = request.get("arguments")
    if not isinstance(arguments, dict) or set(arguments) - {"command-line"}:
        return None
    line = arguments.get("command-line")
    return line if isinstance(line, str) else None


def open_domains(uri: str | None, patterns: list[str], *, timeout: float | None = None,
                 agent: bool = False,
                 log: Observer | None = None) -> list[LibvirtConnection]:
    """Connect to ``uri`` and attach to every domain ``patterns`` name."""
    host = LibvirtHost(uri, timeout=timeout, log=log).open()
    attached: list[LibvirtConnection] = []
    try:
        for name in host.match(patterns):
            attached.append(host.attach(name, agent=agent))
    except BaseException:
        for conn in attached:
            conn.close()
        host.close()
        raise
    return attached
