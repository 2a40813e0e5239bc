"""One line on several VMs at once: ``@all line``, ``@web-* line``.

A request line is parsed once per schema (each VM's own QEMU types it) and
sent to every VM before any reply is read: over sockets from this thread,
with one wait for all the replies (:func:`send_everywhere`); other kinds of
connection each wait in a thread.  Any other line (a dot-command, HMP) runs
on each VM through the ordinary pipeline (a :class:`~qmpshell.runner.pipeline.Runner`
bound to that VM alone), in a thread of its own (:func:`run_everywhere`).
Either way the VMs work at the same time; what each prints is kept and
shown once all are done, in the order the VMs were connected:

- compact output (scripts): each VM's messages as they would be printed,
  each carrying ``"vm": NAME``; failures reported as ``WHERE: NAME: ...``;
- pretty output (a terminal): identical outputs once under the list of VMs
  that gave them, then a summary line (:mod:`qmpshell.runner.gather`).

A VM whose connection was lost is reported with the others, then the loss
ends the line as it would on one VM (exit status 3 in scripts).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, cast

from qmpshell.errors import ConnectError, QMPError, QmpShellError
from qmpshell.runner.fleet import Member
from qmpshell.runner.gather import Outcome, render_gathered
from qmpshell.runner.render import Renderer
from qmpshell.schema.model import Schema
from qmpshell.wire.connection import Reply

MAX_THREADS = 64
"""VMs worked on at the same time; the rest wait for a free thread."""


@dataclass
class Capture:
    """What one VM's run printed and reported, kept until all are done."""

    member: Member
    separate_events: bool = False
    """Events kept apart from the replies (gathered output: an event's time
    differs from VM to VM, and would split identical replies apart)."""
    texts: list[str] = field(default_factory=list)
    events: list[str] = field(default_factory=list)
    errors: list[tuple[QmpShellError, str | None]] = field(default_factory=list)
    lost: ConnectError | None = None
    ok: bool = False

    def out(self, text: str) -> None:
        self.texts.append(text)

    def event(self, text: str) -> None:
        (self.events if self.separate_events else self.texts).append(text)

    def report(self, error: QmpShellError, where: str | None) -> None:
        self.errors.append((error, where))


RunOne = Callable[[Member, Capture], bool]
"""Runs the line on one VM, printing into the capture; False when it failed."""


def run_everywhere(members: Sequence[Member], run_one: RunOne,
                   pool: Callable[[], ThreadPoolExecutor], *,
                   separate_events: bool = False) -> list[Capture]:
    """Run ``run_one`` for every member at once (one alone runs in this thread)."""
    captures = [Capture(member, separate_events) for member in members]

    def work(capture: Capture) -> None:
        try:
            capture.ok = run_one(capture.member, capture)
        except ConnectError as error:
            capture.lost = error

    if len(captures) == 1:
        work(captures[0])
    else:
        for future in [pool().submit(work, c) for c in captures]:
            future.result()
    return captures


Parse = Callable[[Schema], "dict[str, Any] | QmpShellError | None"]
"""The line as a request typed by a schema (or why not; None: nothing to send)."""


def send_everywhere(members: Sequence[Member], parse: Parse, where: str | None, *,
                    schema_of: Callable[[Member], Schema],
                    renderer_for: Callable[[Member], Renderer], verbose: bool,
                    pool: Callable[[], ThreadPoolExecutor], gathered: bool) -> list[Capture]:
    """A request line on several VMs: parsed once per schema (each VM's own
    types it), sent to all at once, replies kept in VM order.  Parsing and
    rendering stay in this thread; so do the round trips over sockets (one
    shared wait), other kinds of connection wait in threads of their own."""
    requests: dict[int, dict[str, Any] | QmpShellError | None] = {}
    captures = [Capture(m, gathered) for m in members]
    sends: list[tuple[Capture, dict[str, Any]]] = []
    for capture in captures:
        schema = schema_of(capture.member)
        if id(schema) not in requests:
            requests[id(schema)] = parse(schema)
        request = requests[id(schema)]
        if isinstance(request, QmpShellError):
            capture.report(request, where)
        elif request is None:
            capture.ok = True  # a comment
        else:
            sends.append((capture, request))
            if verbose:
                capture.out(renderer_for(capture.member).request(request))

    def send(item: tuple[Capture, dict[str, Any]]) -> Reply | ConnectError:
        try:
            return item[0].member.connection.execute(item[1])
        except ConnectError as error:
            return error

    def keep(slot: int, reply: Reply | ConnectError) -> None:
        capture = sends[slot][0]
        keep_reply(capture, reply, renderer_for(capture.member), where)

    connections = [c.member.connection for c, _ in sends]
    if len(sends) >= 2 and (together := _together(connections)) is not None:
        together(connections, [request for _, request in sends], None, keep)  # kept as they come
        return captures
    # no thread for a single VM
    replies = [send(i) for i in sends] if len(sends) < 2 else list(pool().map(send, sends))
    for slot, reply in enumerate(replies):
        keep(slot, reply)
    return captures


Together = Callable[[Sequence[Any], Sequence["dict[str, Any]"], "float | None",
                     Callable[[int, "Reply | ConnectError"], None]], object]
"""Sends each request on its connection and waits for all the replies at
once (the blocking socket driver's ``execute_together``), telling the last
argument each connection's reply (or its own
:class:`~qmpshell.errors.ConnectError`) as it comes."""


def _together(connections: Sequence[Any]) -> Together | None:
    """The shared send-and-wait of these connections' kind, when they are all
    of one kind that has one (the blocking socket driver): no thread then."""
    kinds = {type(c) for c in connections}
    if len(kinds) != 1:
        return None
    return cast("Together | None", getattr(kinds.pop(), "execute_together", None))


def keep_reply(capture: Capture, reply: Reply | ConnectError, renderer: Renderer,
               where: str | None) -> None:
    """One VM's reply to a fan-out, and the events that came before it."""
    if isinstance(reply, ConnectError):
        capture.lost = reply
        return
    member = capture.member
    for event in member.connection.take_events(before=reply.seq):
        member.seen.append(event)
        capture.event(renderer.event(event))
    capture.out(renderer.reply(reply.message))
    error = reply.message.get("error")
    if isinstance(error, dict):
        capture.report(QMPError(str(error.get("class", "")), str(error.get("desc", ""))),
                       where)
    else:
        capture.ok = True


def error_text(error: QmpShellError) -> str:
    """A failure as the gathered output shows it (a QMP error's reply is
    already among the texts)."""
    return f"error: {error}"


def outcomes(captures: Sequence[Capture]) -> list[Outcome]:
    """What each VM showed, for gathering: its texts, then its failures."""
    result = []
    for capture in captures:
        texts = list(capture.texts)
        texts += [error_text(e) for e, _ in capture.errors if not isinstance(e, QMPError)]
        if capture.lost is not None:
            texts.append(error_text(capture.lost))
        result.append(Outcome(capture.member.name, tuple(texts),
                              capture.ok and capture.lost is None))
    return result


def show(target: str, captures: Sequence[Capture], *, gathered: bool,
         out: Callable[[str], None],
         report: Callable[[QmpShellError, str | None], None]) -> None:
    """Print what the VMs printed: gathered (a terminal) or VM by VM."""
    if gathered:
        for capture in captures:
            for text in capture.events:
                out(text)
        for block in render_gathered(target, outcomes(captures)):
            out(block)
        return
    for capture in captures:
        for text in capture.texts:
            out(text)
        for error, where in capture.errors:
            report(error, _at(where, capture.member.name))
        if capture.lost is not None:
            report(capture.lost, _at(None, capture.member.name))


def _at(where: str | None, vm: str) -> str:
    return f"{where}: {vm}" if where else vm


def first_loss(captures: Sequence[Capture]) -> ConnectError | None:
    """The loss that ends the line, named after its VM."""
    for capture in captures:
        if capture.lost is not None:
            return ConnectError(f"{capture.member.name}: {capture.lost}")
    return None
