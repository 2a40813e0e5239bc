"""Several VMs at once: named connections, which one plain lines go to, and
which ones an ``@TARGET`` line addresses.

Pure bookkeeping, no I/O: the runner holds one :class:`ConnectionSet` and
asks it where a line goes; connecting and closing stay with whoever made
the connection.  A name is what the user typed before ``=`` (``src=/run/
src.sock``), else the socket's file name without its extension, or
``HOST:PORT``, or the libvirt domain's name; a name already taken gets
``-2``, ``-3`` ...
"""

from __future__ import annotations

import collections
import fnmatch
import re
from collections.abc import Iterator

from qmpshell.errors import ParseError, QmpShellError
from qmpshell.qemuversion import version_text
from qmpshell.schema.model import Schema, suggest
from qmpshell.wire.connection import QmpConnection

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing
if TYPE_CHECKING:
    from typing import Any

SEEN_EVENTS = 100_000
"""Received events kept for a later ``.wait`` to match: as many as a
connection holds before they are taken (wire's EVENT_BACKLOG), so a .wait
sees every event that was not reported dropped."""
"""Received events kept per VM for a later ``.wait`` to match."""

ALL = "all"
"""``@all line``: every connection."""

_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.:-]*")
_GLOB = frozenset("*?[")


def default_name(address: str) -> str:
    """The name of a connection the user did not name: a socket's file name
    without its extension, else the address as typed (``HOST:PORT``)."""
    if "/" in address or not re.search(r":\d+$", address):
        base = address.rstrip("/").rpartition("/")[2]
        stem = base.partition(".")[0] if not base.startswith(".") else base
        return stem or base or address
    return address


def split_target(line: str) -> tuple[str | None, str]:
    """``@TARGET rest`` → (TARGET, rest); any other line → (None, line)."""
    text = line.lstrip()
    if not text.startswith("@"):
        return None, line
    target, _, rest = text[1:].partition(" ")
    target = target.strip()
    if not target:
        raise ParseError("@ needs a VM name: @NAME line, @all line or @GLOB line", 1, line)
    if not rest.strip():
        raise ParseError(f"@{target} needs a line to run, e.g. @{target} query-status",
                         0, line)
    return target, rest.strip()


def typed_target(text: str) -> tuple[str, int] | None:
    """The target of a line being typed (``@dst query-st``) and where the
    line after it starts in ``text`` (-1 while the target itself is being
    typed); None for a line without one.  The prompt completes and checks
    what follows as a line of its own."""
    stripped = text.lstrip()
    if not stripped.startswith("@"):
        return None
    word = stripped.split(None, 1)[0]
    end = len(text) - len(stripped) + len(word)
    if end == len(text):
        return word[1:], -1
    return word[1:], len(text) - len(text[end:].lstrip())


def let_go_first(old: QmpConnection, address: str) -> bool:
    """Whether ``.connect`` closes the connection it replaces before opening
    the new one to ``address``: when it is dead, or to the same server,
    whose monitor serves one client at a time (else it is closed once the
    new one works)."""
    from qmpshell.wire.address import same_address

    return not old.connected or same_address(old.name, address)


class Member:
    """One named connection, with the schema its own QEMU reported (None
    until read: the shared one is used meanwhile) and the events it sent
    that a later ``.wait`` may still match."""

    __slots__ = ("name", "connection", "schema", "seen")

    def __init__(self, name: str, connection: QmpConnection, schema: Schema | None = None,
                 seen: collections.deque[dict[str, Any]] | None = None) -> None:
        self.name = name
        self.connection = connection
        self.schema = schema
        self.seen: collections.deque[dict[str, Any]] = (
            collections.deque(maxlen=SEEN_EVENTS) if seen is None else seen)

    def __repr__(self) -> str:
        return f"Member(name={self.name!r}, connection={self.connection!r})"

    @property
    def kind(self) -> str:
        return str(getattr(self.connection, "kind", "qmp"))

    @property
    def version(self) -> str:
        """QEMU's version as ``7.2.22`` ('' when the server did not say)."""
        return version_text(self.connection.greeting)

    @property
    def state(self) -> str:
        reason = self.connection.lost_reason()
        return "connected" if reason is None else f"lost: {reason}"


class ConnectionSet:
    """The named connections of one shell and the current one."""

    def __init__(self) -> None:
        self._members: dict[str, Member] = {}
        self._current: str | None = None

    def __len__(self) -> int:
        return len(self._members)

    def __iter__(self) -> Iterator[Member]:
        return iter(list(self._members.values()))

    @property
    def names(self) -> list[str]:
        return list(self._members)

    @property
    def current(self) -> Member | None:
        return self._members.get(self._current) if self._current is not None else None

    def free_name(self, wanted: str) -> str:
        """``wanted``, or ``wanted-2``, ``wanted-3`` ... when it is taken."""
        if wanted not in self._members and wanted != ALL:
            return wanted
        number = 2
        while f"{wanted}-{number}" in self._members:
            number += 1
        return f"{wanted}-{number}"

    def add(self, name: str, connection: QmpConnection, *, explicit: bool = False) -> Member:
        """Add a connection under ``name`` (another free one unless the user
        chose it: then a taken name is an error); the first becomes current."""
        if explicit and (name in self._members or name == ALL):
            raise QmpShellError(f"a connection named {name!r} already exists "
                                f"(.disconnect {name} first, or choose another name)")
        if not _NAME.fullmatch(name):
            raise QmpShellError(f"{name!r} cannot name a connection: use letters, digits, "
                                "'_', '-', '.' or ':'")
        member = Member(self.free_name(name), connection)
        self._members[member.name] = member
        if self._current is None:
            self._current = member.name
        return member

    def remove(self, name: str) -> Member:
        """Take ``name`` out; the current one moves to the first left."""
        member = self.get(name)
        del self._members[member.name]
        if self._current == member.name:
            self._current = next(iter(self._members), None)
        return member

    def use(self, name: str) -> Member:
        member = self.get(name)
        self._current = member.name
        return member

    def get(self, name: str) -> Member:
        member = self._members.get(name)
        if member is None:
            raise QmpShellError(self._unknown(name))
        return member

    def match(self, target: str) -> list[Member]:
        """The members ``@target`` addresses: ``all``, a glob, or a name."""
        if target == ALL:
            found = list(self._members.values())
        elif _GLOB & set(target):
            found = [m for n, m in self._members.items() if fnmatch.fnmatchcase(n, target)]
        else:
            found = [self.get(target)]
        if not found:
            raise QmpShellError(f"no VM matches @{target} ({self._known()})")
        return found

    def _unknown(self, name: str) -> str:
        close = suggest(name, list(self._members), 1)
        hint = f"did you mean {close[0]}? " if close else ""
        return f"no VM named {name!r} ({hint}{self._known()})"

    def _known(self) -> str:
        return f"VMs: {', '.join(self._members)}" if self._members else "no VMs connected"
