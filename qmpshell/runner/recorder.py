"""Recording a session (``--record FILE``, ``.record FILE``) as a session
file that replays with ``qmpshell ADDRESS -f FILE``.

Each executed request is written as the shorthand a person would type
(raw JSON lines too, when the shorthand can say them; otherwise as one line
of JSON), with secrets masked.  Dot-commands that matter for a replay
(``replayed`` in the registry: ``.wait``, ``.sleep``, ``.echo``, ``.hmp``)
are written as typed; the others (``.help``, ``.record``, ``.quit``...) are not.  Every line is
flushed at once, so a crash loses nothing.

Typical use by the runner::

    recorder = Recorder(Path("s.qmp"), qemu_version="7.2.0", schema=schema)
    recorder.record_request(request)     # after the request was executed
    recorder.record_dot(".wait RESUME timeout=5")
    recorder.close()
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, TextIO

from qmpshell.errors import QmpShellError
from qmpshell.privatefiles import open_private_text
from qmpshell.schema.model import Schema
from qmpshell.secrets import mask_line, mask_request
from qmpshell.shorthand.dotcommands import dot_command

if TYPE_CHECKING:
    from datetime import datetime

Formatter = Callable[[dict[str, Any], "Schema | None"], "str | None"]
"""request, schema -> shorthand line(s), or None when the shorthand cannot say it."""


class RecordError(QmpShellError):
    """The recording file could not be opened or written."""

    exit_code = 1


def _shorthand_formatter() -> Formatter | None:
    """The shorthand module's writer."""
    from qmpshell.shorthand.parser import format_request

    def formatter(request: dict[str, Any], schema: Schema | None) -> str | None:
        try:
            return format_request(request, schema)
        except (ValueError, TypeError, QmpShellError, RecursionError):
            return None

    return formatter


def request_line(request: dict[str, Any], schema: Schema | None,
                 formatter: Formatter | None) -> str:
    """The text recorded for one request: secrets masked, shorthand when the
    formatter can say it, else the request as one line of JSON."""
    masked = mask_request(request)
    text = formatter(masked, schema) if formatter is not None else None
    if text is None or not text.strip():
        text = _one_line_json(masked)
    return text.rstrip("\n")


def _one_line_json(value: Any) -> str:
    try:
        return json.dumps(value, ensure_ascii=False)
    except RecursionError:  # deeper than any decoder of ours lets through
        raise RecordError("a request nested too deeply to record") from None


def header(started: datetime, qemu_version: str | None, vms: Sequence[str] = ()) -> str:
    """The comment lines at the top of a recording; with several VMs the
    replay's command line names them, as the recorded @NAME lines need."""
    against = f" against QEMU {qemu_version}" if qemu_version else ""
    stamp = started.strftime("%Y-%m-%d %H:%M:%S %z").rstrip()
    addresses = " ".join(f"{name}=ADDRESS" for name in vms) if len(vms) > 1 else "ADDRESS"
    return (f"# qmpshell session recorded {stamp}{against}\n"
            f"# replay: qmpshell {addresses} -f FILE; {SECRETS_NOTE}\n")


SECRETS_NOTE = ("secrets are masked (********): the replay asks for each at a terminal, or "
                "give --secret NAME=VALUE, --secret NAME=@FILE or $QMPSHELL_SECRET_NAME")
"""How a replay gets the secrets this recording masks, said in its header."""


class Recorder:
    """Appends executed lines to a session file (see the module doc)."""

    def __init__(self, path: Path, *, qemu_version: str | None,
                 schema: Schema | None = None, formatter: Formatter | None = None,
                 started: datetime | None = None, vms: Sequence[str] = ()) -> None:
        """Open ``path`` for appending and write the header.

        ``formatter`` defaults to the shorthand module's ``format_request``;
        ``started`` (the header's time) defaults to now; ``vms``: the names
        of the connections open when it starts."""
        self.path = path
        self.schema = schema
        self._formatter = formatter if formatter is not None else _shorthand_formatter()
        try:
            self._file: TextIO | None = open_private_text(path)
        except OSError as e:
            raise RecordError(f"cannot record to {path}: {e.strerror or e}") from e
        if started is None:
            from datetime import UTC, datetime  # only when recording starts

            started = datetime.now(UTC).astimezone()
        try:
            gap = "\n" if self._file.tell() > 0 else ""
            self._write(gap + header(started, qemu_version, vms))
        except RecordError:
            self.close()
            raise

    @property
    def closed(self) -> bool:
        return self._file is None

    def _write(self, text: str) -> None:
        if self._file is None:
            raise RecordError(f"recording to {self.path} is closed")
        try:
            self._file.write(text)
            self._file.flush()
        except OSError as e:
            raise RecordError(f"cannot write to {self.path}: {e.strerror or e}") from e

    def record_request(self, request: dict[str, Any]) -> None:
        """Write an executed request (from shorthand, JSON, a transaction)."""
        self._write(request_line(request, self.schema, self._formatter) + "\n")

    def record_dot(self, line: str) -> bool:
        """Write a dot-command as typed (secrets masked) when it matters for
        a replay; True when it was written."""
        text = line.strip()
        spec = dot_command(text.split(None, 1)[0]) if text else None
        if spec is None or not spec.replayed:
            return False
        self._write(mask_line(text) + "\n")
        return True

    def record_line(self, line: str) -> None:
        """Write a line as typed, secrets masked (``@dst migrate-incoming ...``:
        a line for several VMs, each typed by its own schema)."""
        self._write(mask_line(line.strip()) + "\n")

    def record(self, line: str, request: dict[str, Any] | None = None) -> bool:
        """Write what one executed line did: its ``request`` when it sent one,
        else the line itself if it is a dot-command worth replaying.

        Blank lines and comments are not written.  True when something was."""
        if request is not None:
            self.record_request(request)
            return True
        if line.lstrip().startswith("."):
            return self.record_dot(line)
        return False

    def close(self) -> None:
        """Close the file; further writes are errors, a second close is not."""
        if self._file is not None:
            file, self._file = self._file, None
            try:
                file.close()
            except OSError as e:
                raise RecordError(f"cannot write to {self.path}: {e.strerror or e}") from e

    def __enter__(self) -> Recorder:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
