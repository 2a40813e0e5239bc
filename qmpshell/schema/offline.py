"""The schema a run without a server checks lines against.

``--schema FILE`` chooses exactly; otherwise a dry run uses the schema of the
last QEMU the user connected to (kept by :mod:`qmpshell.schema.cache`), and
only when there is none the bundled table, whose spec is QEMU 2.3's and
refuses much of what a modern session file says.  Either server schema is
documented by the bundled table the same way a live one is.
"""

from __future__ import annotations

from pathlib import Path

from qmpshell.errors import SchemaError
from qmpshell.schema import cache as schemacache
from qmpshell.schema.cache import StrPath
from qmpshell.schema.introspect import merge_schemas
from qmpshell.schema.model import Schema

CACHED_PREFIX = "cached QEMU "
"""How a schema from the cache names its source (``.schema`` shows it)."""


def schema_from_file(path: Path | str, bundled: Schema) -> Schema:
    """``--schema FILE``: a spec file as it is, a saved server schema merged
    with the bundled documentation; SchemaError when it lists no command."""
    from qmpshell.schema.files import load_schema_file

    loaded = load_schema_file(path)
    if not loaded.commands:
        raise SchemaError(f"{path}: no commands in this schema; give a saved "
                          "query-qmp-schema reply (.schema save FILE) or a spec file")
    if not loaded.complete:
        return loaded
    return merge_schemas(loaded, bundled)


def last_connected(cache_dir: StrPath) -> Schema | None:
    """The cached schema of the QEMU connected to last, documented by the
    bundled table (it is cached so); None when the cache has none."""
    from qmpshell.schema.introspect import documented_by

    entry = schemacache.newest(cache_dir, documented_by())
    if entry is None or not entry.schema.commands:
        return None
    schema = entry.schema
    schema.source = CACHED_PREFIX + (entry.qemu or "(version unknown)")
    return schema


def is_cached(schema: Schema) -> bool:
    return schema.source.startswith(CACHED_PREFIX)
