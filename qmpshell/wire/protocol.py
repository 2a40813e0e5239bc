"""QMP as a state machine that never touches a socket (as h11 does for HTTP).

A driver feeds it the bytes it reads (:meth:`QmpProtocol.receive_data`, ``b""``
at end of file), writes the bytes it hands out (:meth:`QmpProtocol.send` for
a request, :meth:`QmpProtocol.data_to_send` for its own qmp_capabilities),
and acts on what :meth:`QmpProtocol.next_event` returns, in arrival order:

- :class:`Ready`: the greeting arrived and negotiation succeeded (at once
  with ``negotiate=False``: a guest agent does not greet);
- :class:`ReplyReceived`: the reply to a request (matched by id, the id
  removed, or by order; see below);
- :class:`EventReceived`: an asynchronous event;
- :class:`UnmatchedReply`: a reply with an id no request has, ignored
  (reported for the first one only, so a hostile server cannot flood);
- :class:`Closed`: the connection is over, with one sentence saying why.

The state is explicit (:class:`State`) and every fault (garbage, a message
larger than :data:`READ_LIMIT`, JSON nested deeper than :data:`MAX_DEPTH`,
an odd greeting, a refused negotiation, end of file mid-message) ends in
:class:`Closed`, never in an exception out of ``receive_data``; so every
fault is testable with plain byte strings, and both drivers word it alike.

Requests go out as compact JSON.  To QEMU 3.0 and later they carry no id
and no newline: QEMU answers in-band requests strictly in order, and reads a
request one byte per turn of its monitor loop (about 6 us of its CPU a
byte, measured), so ``query-status`` in 26 bytes instead of 38 costs it a
quarter less; that counts when one line goes to many VMs on few cores.  A reply
without an id belongs to the oldest request sent without one, abandoned
ones included (their replies are dropped as they come).  Ids stay where
order is not guaranteed or not known: ``exec-oob`` requests, servers that
did not greet as QEMU 3.0 or later (QEMU 2.12's out-of-band mode demanded
them), ``negotiate=False`` and the guest agent.
"""

from __future__ import annotations

import collections
import enum
import json
import re
from collections.abc import Callable
from functools import cache
from itertools import accumulate

from qmpshell.jsonlimit import compact_dumps
from qmpshell.qemuversion import qemu_version
from qmpshell.records import Record

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing
if TYPE_CHECKING:
    from typing import Any, TypeAlias

READ_LIMIT = 256 * 1024 * 1024
"""Largest message accepted (a 16 MiB guest-file-read or a huge
query-qmp-schema must arrive whole); only a ceiling, nothing is preallocated."""

MAX_DEPTH = 256
"""Deepest nesting of arrays and objects accepted in a message: far beyond
anything QEMU sends, and shallow enough that every later step (rendering,
masking, logging) can walk it."""

SENT = "sent"
RECEIVED = "received"

Observer: TypeAlias = "Callable[[str, dict[str, Any]], None]"
"""Called with (:data:`SENT` or :data:`RECEIVED`, message) for every message,
as sent and received, ids where there are any (``--logfile``)."""


class State(enum.Enum):
    AWAITING_GREETING = "awaiting greeting"
    NEGOTIATING = "negotiating"
    READY = "ready"
    CLOSED = "closed"


class Ready(Record):
    """Negotiation is done: requests may be sent."""

    __slots__ = ()


class ReplyReceived(Record):
    __slots__ = ("request_id", "message", "seq")

    request_id: int
    message: dict[str, Any]
    seq: int

    def __init__(self, request_id: int, message: dict[str, Any], seq: int) -> None:
        self.request_id = request_id
        self.message = message
        self.seq = seq


class EventReceived(Record):
    __slots__ = ("message", "seq")

    message: dict[str, Any]
    seq: int

    def __init__(self, message: dict[str, Any], seq: int) -> None:
        self.message = message
        self.seq = seq


class UnmatchedReply(Record):
    """A reply whose id matches no request: it is ignored."""

    __slots__ = ("text",)

    text: str

    def __init__(self, text: str) -> None:
        self.text = text


class Closed(Record):
    """The end.  ``reason`` is a sentence; ``setting_up`` tells a failure to
    connect (before :class:`Ready`) from a lost connection."""

    __slots__ = ("reason", "setting_up")

    reason: str
    setting_up: bool

    def __init__(self, reason: str, setting_up: bool) -> None:
        self.reason = reason
        self.setting_up = setting_up


Event = Ready | ReplyReceived | EventReceived | UnmatchedReply | Closed


class ProtocolError(ValueError):
    """The caller used the protocol out of turn (a request before Ready, or
    after Closed)."""


class Outgoing(Record):
    __slots__ = ("request_id", "data")

    request_id: int
    data: bytes

    def __init__(self, request_id: int, data: bytes) -> None:
        self.request_id = request_id
        self.data = data


class QmpProtocol:
    """One QMP session's protocol state (see the module doc)."""

    def __init__(self, *, negotiate: bool = True, observer: Observer | None = None,
                 max_size: int = READ_LIMIT, max_depth: int = MAX_DEPTH) -> None:
        self.negotiate = negotiate
        self.observer = observer
        self.max_size = max_size
        self.max_depth = max_depth
        self.greeting: dict[str, Any] | None = None
        self.state = State.AWAITING_GREETING if negotiate else State.READY
        self.closed_reason: str | None = None
        self._buffer = bytearray()
        self._scanned = 0
        self._events: collections.deque[Event] = collections.deque()
        self._outbox = bytearray()
        self._next_id = 1
        self._pending: dict[int, bool] = {}  # in the order sent: id -> sent with it
        self._abandoned: set[int] = set()  # sent with their id
        self._unlabelled: collections.deque[int] = collections.deque()  # sent without
        self._label_all = True  # until a greeting says the server answers in order
        self._negotiation_id = 0
        self._seq = 0
        self._warned = False
        if not negotiate:
            self._events.append(Ready())

    # -- output -----------------------------------------------------------
    def send(self, request: dict[str, Any], head: str | None = None) -> Outgoing:
        """The bytes for ``request`` with a fresh id; its reply will come as a
        :class:`ReplyReceived` with that id.  ``head``: ``request`` already
        encoded by :func:`request_head` (a line for many VMs is encoded once)."""
        if self.state is not State.READY:
            raise ProtocolError(f"cannot send a request while {self.state.value}")
        return self._send(request, head)

    def _send(self, request: dict[str, Any], head: str | None = None) -> Outgoing:
        request_id = self._next_id
        self._next_id += 1
        if "id" in request:  # a JSON line typed with an id of its own: not sent
            request = {k: v for k, v in request.items() if k != "id"}
            head = None  # it was encoded with that id
        if self._label_all or "exec-oob" in request:
            self._pending[request_id] = True
            if self.observer is not None:
                self.observer(SENT, {**request, "id": request_id})
            if head is None:
                text = compact_dumps({**request, "id": request_id})
            else:
                text = f'{head},"id":{request_id}}}'
            # Lines, for servers whose framing is not known to be JSON's own.
            return Outgoing(request_id, (text + "\n").encode() if self._label_all
                            else text.encode())
        self._pending[request_id] = False
        self._unlabelled.append(request_id)
        if self.observer is not None:
            self.observer(SENT, request)
        text = compact_dumps(request) if head is None else head + "}"
        return Outgoing(request_id, text.encode())  # QEMU needs no newline after it

    def data_to_send(self) -> bytes:
        """Bytes the protocol itself wants written (qmp_capabilities)."""
        data = bytes(self._outbox)
        self._outbox.clear()
        return data

    def abandon(self, request_id: int) -> None:
        """Nobody waits for this reply any more (a timeout, Ctrl-C): drop it
        quietly when it comes."""
        if self._pending.pop(request_id, False):
            self._abandoned.add(request_id)
        # One sent without an id stays in _unlabelled: its reply still comes
        # in its turn, and is dropped then.

    @property
    def pending(self) -> int:
        """How many requests await their reply."""
        return len(self._pending)

    # -- input ------------------------------------------------------------
    def next_event(self) -> Event | None:
        """The oldest event not yet taken, or None."""
        return self._events.popleft() if self._events else None

    def _closed(self) -> bool:
        """Whether the state is CLOSED (a call, so that a check after
        :meth:`_on_line`, which may close, is not narrowed away)."""
        return self.state is State.CLOSED

    def receive_data(self, data: bytes) -> None:
        """Feed bytes read from the server; ``b""`` means end of file."""
        if self.state is State.CLOSED:
            return
        if not data:
            self._end_of_file()
            return
        buffer = self._buffer
        if not buffer and data.find(b"\n") == len(data) - 1:
            self._on_line(data)  # the usual read: exactly one whole message
            return
        buffer += data
        start = 0
        newline = buffer.find(b"\n", self._scanned)
        while newline >= 0:
            if start == 0 and newline == len(buffer) - 1:
                # A message read in pieces (a big reply): its text replaces the
                # pieces before it is parsed, so a reply of N bytes peaks near
                # 2 N here (text and objects), not 4 N.
                try:
                    text: bytes | str = buffer.decode("utf-8")
                except UnicodeDecodeError:
                    text = bytes(buffer)  # json.loads says what is wrong with it
                buffer.clear()
                self._scanned = 0
                self._on_line(text)
                return
            with memoryview(buffer) as view:  # one copy of the line, not two
                line = bytes(view[start:newline + 1])
            start = newline + 1
            self._on_line(line)
            if self._closed():
                return
            newline = buffer.find(b"\n", start)
        del buffer[:start]
        self._scanned = len(buffer)
        if len(buffer) > self.max_size:
            self._close(f"a message from the server is larger than {self.max_size // 2**20} MiB")

    def connection_lost(self, reason: str) -> None:
        """The transport failed (a reset, a TLS error): ``reason`` says how."""
        self._close(reason)

    def close(self) -> None:
        """We closed the connection ourselves."""
        self._close("the connection was closed")

    def _end_of_file(self) -> None:
        if self._buffer.strip():
            self._close("the server closed the connection in the middle of a message")
        elif self.state is State.AWAITING_GREETING:
            self._close("the server closed the connection before greeting")
        elif self.state is State.NEGOTIATING:
            self._close("the server closed the connection during capabilities negotiation")
        else:
            self._close("the server closed the connection")

    def _close(self, reason: str) -> None:
        if self.state is State.CLOSED:
            return
        setting_up = self.state is not State.READY
        self.state = State.CLOSED
        self.closed_reason = reason
        self._buffer.clear()
        self._pending.clear()
        self._unlabelled.clear()
        self._events.append(Closed(reason, setting_up))

    # -- one message ------------------------------------------------------
    def _on_line(self, line: bytes | str) -> None:
        if len(line) > self.max_size:
            self._close(f"a message from the server is larger than {self.max_size // 2**20} MiB")
            return
        if line[:2] not in _OBJECT_STARTS and not line.strip():
            return
        problem = None
        message: Any = None
        if _too_deep_text(line, self.max_depth):
            problem = f"JSON nested deeper than {self.max_depth} levels"
        else:
            try:
                message = _loads(line)
            except RecursionError:
                problem = f"JSON nested deeper than {self.max_depth} levels"
            except ValueError:
                problem = "malformed JSON"
            else:
                if not isinstance(message, dict):
                    problem = "JSON that is not an object"
        if problem is not None:
            if self.state is State.AWAITING_GREETING:
                self._close(f"did not understand the server's greeting ({problem})")
            else:
                self._close(f"the server sent {problem}")
            return
        self._seq += 1
        if self.observer is not None:
            self.observer(RECEIVED, message)
        if "event" in message:
            self._events.append(EventReceived(message, self._seq))
        elif self.state is State.AWAITING_GREETING:
            self._on_greeting(message)
        elif not self.negotiate and self._seq == 1 and "QMP" in message \
                and greeting_problem(message) is None:
            self.greeting = message  # -N against a server that greets after all
        else:
            self._on_reply(message)

    def _on_greeting(self, message: dict[str, Any]) -> None:
        problem = greeting_problem(message)
        if problem is not None:
            self._close(f"did not understand the server's greeting ({problem})")
            return
        self.greeting = message
        self._label_all = qemu_major(message) < 3
        self.state = State.NEGOTIATING
        request: dict[str, Any] = {"execute": "qmp_capabilities"}
        if "oob" in message["QMP"].get("capabilities", ()):
            request["arguments"] = {"enable": ["oob"]}
        outgoing = self._send(request)
        self._negotiation_id = outgoing.request_id
        self._outbox += outgoing.data

    def _on_reply(self, message: dict[str, Any]) -> None:
        reply_id = message.pop("id", None)
        pending = self._pending
        if reply_id is None and self._unlabelled:
            reply_id = self._unlabelled.popleft()  # answered in order
            if reply_id not in pending:
                return  # abandoned: nobody waits for it
        elif reply_id is None and pending:
            # No id for a request sent with one: QEMU could not parse it, and
            # requests are answered in order, so it is the oldest waiting one's.
            reply_id = next(iter(pending))
        elif type(reply_id) is not int or reply_id not in pending:
            if type(reply_id) is int and reply_id in self._abandoned:
                self._abandoned.discard(reply_id)
            elif not self._warned:
                self._warned = True
                self._events.append(UnmatchedReply(
                    f"ignored a reply that answers no request (id {_shown(reply_id)})"))
            return
        del pending[reply_id]
        if self.state is State.NEGOTIATING and reply_id == self._negotiation_id:
            if "return" in message:
                self.state = State.READY
                self._events.append(Ready())
                return
            error = message.get("error")
            desc = error.get("desc", error) if isinstance(error, dict) else message
            self._close(f"capabilities negotiation failed ({desc})")
            return
        self._events.append(ReplyReceived(reply_id, message, self._seq))


_OBJECT_STARTS = (b'{"', '{"')


def _loads(line: bytes | str) -> Any:
    """``json.loads(line)``, straight to the C scanner for a line that is
    UTF-8 and starts an object (every message QEMU sends): json.loads first
    guesses the encoding of bytes and wraps the scanner in Python."""
    if type(line) is not bytes or line[:2] != b'{"':
        return json.loads(line)
    text = line.decode("utf-8", "surrogatepass")
    try:
        value, end = _scanner()(text, 0)
    except StopIteration:  # where a value was expected (json.loads says so too)
        raise ValueError("expecting a value") from None
    if end != len(text) and text[end:].strip(" \t\n\r"):
        raise ValueError("extra data after the JSON value")
    return value


@cache
def _scanner() -> Callable[[str, int], tuple[Any, int]]:
    """json.loads' own scanner (C), made once."""
    from json.scanner import make_scanner

    decoder: Any = json.JSONDecoder()
    scan: Callable[[str, int], tuple[Any, int]] = make_scanner(decoder)
    return scan


def request_head(request: dict[str, Any]) -> str | None:
    """``request`` as compact JSON but for its closing brace, which
    :meth:`QmpProtocol.send` completes (with an id, or none): the same bytes
    as encoding it whole (None for an empty request, which has no such text)."""
    return compact_dumps(request)[:-1] if request else None


def silence(name: str, state: State, seconds: float) -> str:
    """Why a connection that opened said nothing in time, and what to check:
    QEMU's monitor serves one client at a time (another may hold it), and
    a server without a greeting needs -N."""
    awaited = {State.AWAITING_GREETING: "greeting",
               State.NEGOTIATING: "reply to qmp_capabilities"}.get(state, "connection")
    return (f"{name}: no {awaited} within {seconds:g} s (is another client connected? "
            "QEMU's monitor serves one at a time; is it a QMP socket? -N skips the greeting)")


def qemu_major(greeting: dict[str, Any]) -> int:
    """The QEMU major version a (checked) greeting states; 0 when it states none."""
    version = qemu_version(greeting)
    return 0 if version is None else version[0]


def greeting_problem(message: dict[str, Any]) -> str | None:
    """What is wrong with a greeting (None: nothing): the fields the shell
    reads must have the types QEMU gives them."""
    info = message.get("QMP")
    if not isinstance(info, dict):
        return "not a QMP greeting"
    capabilities = info.get("capabilities", [])
    if not isinstance(capabilities, list) or not all(isinstance(c, str) for c in capabilities):
        return "capabilities is not a list of names"
    version = info.get("version", {})
    if not isinstance(version, dict):
        return "version is not an object"
    qemu = version.get("qemu", {})
    if not isinstance(qemu, dict) or not all(
            type(qemu.get(k, 0)) is int for k in ("major", "minor", "micro")):
        return "version.qemu is not an object of numbers"
    if not isinstance(version.get("package", ""), str):
        return "version.package is not a string"
    return None


_ESCAPE = re.compile(rb"\\.", re.DOTALL)
_NOT_SYNTAX = bytes(b for b in range(256) if b not in b'"[]{}')
_DEPTH_STEP = [1 if b in b"[{" else -1 if b in b"]}" else 0 for b in range(256)]


def _too_deep_text(line: bytes | str, limit: int) -> bool:
    """:func:`too_deep` for a line as read or as decoded text."""
    if isinstance(line, bytes):
        return too_deep(line, limit)
    if line.count("[") + line.count("{") <= limit:
        return False
    return too_deep(line.encode("utf-8", "surrogatepass"), limit)


def too_deep(line: bytes, limit: int) -> bool:
    """Whether the JSON text ``line`` nests arrays and objects deeper than
    ``limit``: a bracket count first (a usual message stops there), then the
    brackets outside strings, summed up in C (a 300 kB schema: about 1 ms)."""
    if line.count(b"[") + line.count(b"{") <= limit:
        return False
    if b"\\" in line:
        line = _ESCAPE.sub(b"", line)  # backslashes only escape inside strings
    brackets = b"".join(line.translate(None, _NOT_SYNTAX).split(b'"')[::2])
    return max(accumulate(map(_DEPTH_STEP.__getitem__, brackets)), default=0) > limit


def _shown(value: object) -> str:
    text = json.dumps(value)
    return text if len(text) <= 40 else text[:37] + "..."


def new_protocol(*, negotiate: bool = True, agent: bool = False,
                 observer: Observer | None = None) -> QmpProtocol:
    """The protocol a driver speaks: QMP, or with ``agent`` the guest agent's
    (no greeting, resynchronised through guest-sync-delimited)."""
    if agent:
        from qmpshell.wire.agent import AgentProtocol

        return AgentProtocol(observer=observer)
    return QmpProtocol(negotiate=negotiate, observer=observer)
