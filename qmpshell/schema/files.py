"""``--schema FILE`` and ``.schema save FILE``: a schema kept in a file.

A file is either QEMU's spec document (``qmp-commands.hx``, plain or the
blame-annotated copy) or a saved ``query-qmp-schema`` reply, told apart by
content, so ``--dry-run`` can type and check lines for a QEMU that is not
running.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path

from qmpshell import jsonlimit
from qmpshell.errors import SchemaError
from qmpshell.schema.introspect import qapi_entries, schema_from_qapi
from qmpshell.schema.model import Schema


def load_schema_file(path: Path | str) -> Schema:
    """The schema in ``path``; SchemaError naming the file when it cannot be used."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise SchemaError(f"{path}: not a text file ({exc.reason})") from exc
    except OSError as exc:
        raise SchemaError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    if text.lstrip().startswith(("[", "{")):
        return _schema_from_reply_text(text, path)
    return _schema_from_spec(text, path)


def _schema_from_reply_text(text: str, path: Path) -> Schema:
    try:
        data = jsonlimit.loads(text)
    except json.JSONDecodeError as exc:
        raise SchemaError(f"{path}:{exc.lineno}: invalid JSON: {exc.msg}") from exc
    except ValueError as exc:
        raise SchemaError(f"{path}: {exc}") from exc
    try:
        return schema_from_qapi(data, source=str(path))
    except SchemaError as exc:
        raise SchemaError(f"{path}: {exc}") from exc


def _schema_from_spec(text: str, path: Path) -> Schema:
    from qmpshell.schema.table import schema_from_spec_text

    try:
        schema = schema_from_spec_text(text, str(path))
    except SchemaError as exc:
        line, message = getattr(exc, "line", None), getattr(exc, "message", str(exc))
        where = f"{path}:{line}" if isinstance(line, int) else str(path)
        raise SchemaError(f"{where}: {message}") from exc
    if not schema.commands:
        raise SchemaError(f"{path}: neither a QMP spec file nor a query-qmp-schema reply "
                          "(no commands found)")
    return schema


def save_schema(reply: object, path: Path | str) -> None:
    """Write a ``query-qmp-schema`` reply (the list or the whole reply) to ``path``
    as ``{"return": [...]}``, the form :func:`load_schema_file` reads back.
    Written atomically, so a failed save leaves any old file intact."""
    path = Path(path)
    entries = qapi_entries(reply)
    text = json.dumps({"return": entries}, indent=1) + "\n"
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.chmod(tmp, 0o644)  # an ordinary file, not mkstemp's private 0600
        os.replace(tmp, path)
    except OSError as exc:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        raise SchemaError(f"{path}: cannot write: {exc.strerror or exc}") from exc
