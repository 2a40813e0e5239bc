"""A disk cache of parsed live schemas, so a reconnect or the next start is instant.

Design: fetching the schema just to learn its hash would cost the very round
trip the cache is meant to save.  So an entry is found by what the server says
before any schema is fetched -- the QEMU version triple and package string from
the greeting, plus the target architecture (one tiny ``query-target``) -- and
records the hash of the ``query-qmp-schema`` reply it was built from.  The
caller uses the entry at once, then fetches the reply in the background; when
its hash differs (a developer's rebuild with the same version string) the entry
is rebuilt and replaced.  See :func:`qmpshell.schema.introspect.live_schemas`.

Entries are plain JSON (never pickle: a cache file is not trusted), written to
a temporary file and renamed into place.  Anything unreadable, corrupt, of an
older format or for another key is a miss, never an error.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Callable, Mapping
from types import MappingProxyType

from qmpshell import jsonlimit
from qmpshell.debug import note
from qmpshell.qemuversion import version_text
from qmpshell.records import Record
from qmpshell.schema.lazy import LazyTable
from qmpshell.schema.model import Command, Event, Example, Member, Schema, TypeInfo

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing
if TYPE_CHECKING:
    from typing import Any

FORMAT = 5
"""Bump when the model, the encoding or the introspection mapping changes."""


class CacheEntry(Record):
    """A cached live schema and the digest of the reply it was built from."""

    __slots__ = ("schema", "digest", "qemu")

    schema: Schema
    digest: str
    qemu: str
    """Which QEMU it came from, as a user reads it: '7.2.0 (Debian ...) x86_64'."""

    def __init__(self, schema: Schema, digest: str, qemu: str = "") -> None:
        self.schema = schema
        self.digest = digest
        self.qemu = qemu


def describe_qemu(greeting: Mapping[str, Any], target: str = "") -> str:
    """'7.2.0 (Debian 1:7.2+dfsg-7) x86_64': version, package and target."""
    info = greeting.get("QMP", greeting)
    version = info.get("version", {}) if isinstance(info, Mapping) else {}
    text = format_qemu_version(version if isinstance(version, Mapping) else {})
    return f"{text} {target}" if target else text


def format_qemu_version(version: Mapping[str, Any]) -> str:
    """'7.2.0 (Debian 1:7.2+dfsg-7)' from a ``query-version`` return value or
    the greeting's ``QMP.version``."""
    number = version_text(version, "?.?.?")
    package = str(version.get("package", "")).strip()
    return f"{number} ({package})" if package else number


def cache_key(greeting: Mapping[str, Any], target: str = "") -> str:
    """A file-name-safe key for one QEMU build: version, target, package."""
    info = greeting.get("QMP", greeting)
    version = info.get("version", {}) if isinstance(info, Mapping) else {}
    triple = version_text(greeting, "x.x.x")
    package = str(version.get("package", "")) if isinstance(version, Mapping) else ""
    arch = re.sub(r"[^A-Za-z0-9_]", "_", target) or "any"
    package_id = re.sub(r"[^A-Za-z0-9_.+]", "_", package)[:60] or "none"
    return f"{triple}-{arch}-{package_id}"


def reply_digest(entries: object) -> str:
    """The hash of a query-qmp-schema return value, independent of key order."""
    import hashlib  # only when the server's schema was fetched: OpenSSL loads slowly

    text = json.dumps(entries, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


StrPath = str | os.PathLike[str]
"""A path as a string or a path object (the cache is on a one-shot command's
way, and importing pathlib would cost it a noticeable part of its start)."""


def entry_path(cache_dir: StrPath, key: str) -> str:
    return os.path.join(cache_dir, f"schema-{key}.json")


def load(cache_dir: StrPath, key: str, documented_by: str = "") -> CacheEntry | None:
    """The cached entry for ``key``, its schema documented by the bundled
    table ``documented_by`` names; None when absent, unreadable, corrupt, of
    another QEMU or documented by another table."""
    path = entry_path(cache_dir, key)
    try:
        with open(path, "rb") as file:
            data, body = _unpack_outline(file.read())
        if data.get("format") != FORMAT or data.get("key") != key:
            note("schema.cache", "miss: %s is of another format or QEMU", path)
            return None
        if data.get("documented_by") != documented_by:
            note("schema.cache", "miss: %s was documented by another command table", path)
            return None
        digest = data["digest"]
        if not isinstance(digest, str):
            note("schema.cache", "miss: %s has no digest", path)
            return None
        entry = CacheEntry(schema=_schema_in(data["schema"], body), digest=digest,
                           qemu=_str(data.get("qemu", "")))
    except FileNotFoundError:
        note("schema.cache", "miss: no %s", path)
        return None
    except (OSError, ValueError, KeyError, TypeError, AttributeError, RecursionError) as error:
        # a corrupt entry is a cache miss: the server is asked again
        note("schema.cache", "miss: %s unreadable (%s)", path, error)
        return None
    note("schema.cache", "hit: %s", path)
    return entry


def newest(cache_dir: StrPath, documented_by: str = "") -> CacheEntry | None:
    """The entry of the QEMU connected to last (the most recently written or
    used one that loads), for a dry run with no server to ask."""
    try:
        found = [(os.stat(os.path.join(cache_dir, name)).st_mtime, name)
                 for name in os.listdir(cache_dir)
                 if name.startswith("schema-") and name.endswith(".json")]
    except OSError:
        return None
    for _, name in sorted(found, reverse=True):
        entry = load(cache_dir, name[len("schema-"):-len(".json")], documented_by)
        if entry is not None:
            return entry
    return None


def mark_used(cache_dir: StrPath, key: str) -> None:
    """Note that ``key``'s QEMU was connected to now, so :func:`newest` finds it."""
    with contextlib.suppress(OSError):
        os.utime(entry_path(cache_dir, key))


def store(cache_dir: StrPath, key: str, schema: Schema, digest: str, qemu: str = "",
          documented_by: str = "") -> bool:
    """Write an entry atomically (temporary file, then rename); False when the
    cache directory is not writable, which only costs speed.  ``qemu`` says
    which QEMU it is (:func:`describe_qemu`), ``documented_by`` which bundled
    table documented ``schema`` (an entry is kept already merged with it)."""
    data = {"format": FORMAT, "key": key, "digest": digest, "qemu": qemu,
            "documented_by": documented_by, "schema": schema_to_json(schema)}
    packed = pack(data)
    import tempfile  # only on a cold start: with shutil, a noticeable import

    from qmpshell.privatefiles import make_private_dirs

    tmp = None
    try:
        make_private_dirs(cache_dir)
        fd, tmp = tempfile.mkstemp(dir=cache_dir, prefix=".schema-", suffix=".tmp")
        with os.fdopen(fd, "wb") as out:
            out.write(packed)
        os.replace(tmp, entry_path(cache_dir, key))
    except OSError:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        note("schema.cache", "not stored: %s is not writable", cache_dir)
        return False
    note("schema.cache", "stored %s", entry_path(cache_dir, key))
    return True


# -- the file: an outline, then the entries ---------------------------------------
# The first line is JSON: the entry's key, digest and so on, and for each of
# 'commands', 'types' and 'events' where each entry's JSON text lies in the
# rest of the file ([start, end] byte offsets).  A one-shot command parses the
# outline alone and decodes the few entries it looks up.
TABLES = ("commands", "types", "events")


def pack(data: Mapping[str, Any]) -> bytes:
    """The file for ``data`` (the entry with ``schema`` as :func:`schema_to_json`
    gives it)."""
    body = bytearray()
    outline = {key: value for key, value in data.items() if key != "schema"}
    schema = dict(data["schema"])
    for table in TABLES:
        spans = {}
        for name, text in schema[table].items():
            start = len(body)
            body += text.encode()
            spans[name] = [start, len(body)]
            body += b"\n"
        schema[table] = spans
    outline["schema"] = schema
    return json.dumps(outline, separators=(",", ":")).encode() + b"\n" + bytes(body)


def unpack(raw: bytes) -> dict[str, Any]:
    """What :func:`pack` was given (every entry's text read out)."""
    data, body = _unpack_outline(raw)
    schema = data["schema"]
    for table in TABLES:
        schema[table] = {name: _span(body, span).decode() for name, span in schema[table].items()}
    return data


def _unpack_outline(raw: bytes) -> tuple[dict[str, Any], bytes]:
    """The outline, parsed, and the entries' bytes.  Not jsonlimit: the
    outline is shallow, each entry is checked for depth when decoded, and
    something deeper raises RecursionError here, a miss."""
    end = raw.find(b"\n")
    if end < 0:
        raise ValueError("no outline")
    data = json.loads(raw[:end])
    if type(data) is not dict:
        raise TypeError("the outline is not an object")
    return data, raw[end + 1:]


def _span(body: bytes, span: object) -> bytes:
    if type(span) is not list or len(span) != 2:
        raise TypeError("expected [start, end]")
    start, end = span
    if type(start) is not int or type(end) is not int or not 0 <= start <= end <= len(body):
        raise ValueError("an entry outside the file")
    return body[start:end]


def _schema_in(outline: Mapping[str, Any], body: bytes) -> Schema:
    """The schema of a packed file, each entry decoded when first looked up."""
    def table(name: str, decode: Callable[[Any], Any],
              unchecked: Callable[[str], Any]) -> LazyTable[Any]:
        spans = outline[name]
        if type(spans) is not dict:
            raise TypeError(f"{name}: expected an object")
        return LazyTable(spans, lambda span: decode(_span(body, span)), unchecked)

    return Schema(commands=table("commands", _command_text, _unchecked_command),
                  types=table("types", _type_text, _unchecked_type),
                  events=table("events", _event_text, _unchecked_event),
                  source=_str(outline.get("source", "")),
                  complete=outline.get("complete") is True)


# -- the JSON encoding of a Schema --------------------------------------------
# Each command, type and event is kept as its own JSON text, decoded only when
# looked up (:class:`~qmpshell.schema.lazy.LazyTable`).  Within an entry, fields
# at their default are left out and members are positional lists; the types
# every Schema makes for itself (builtins, 'options', 'empty') are not written.
# Decoding checks every field's JSON type, so a tampered entry reads as an
# unchecked one (any value, any argument), never as a model that breaks later.
def schema_to_json(schema: Schema) -> dict[str, Any]:
    own = Schema()
    return {
        "source": schema.source,
        "complete": schema.complete,
        "types": {t.name: _text(_type_out(t)) for t in schema.types.values()
                  if own.types.get(t.name) != t},
        "commands": {c.name: _text(_command_out(c)) for c in schema.commands.values()},
        "events": {e.name: _text(_fields_out(e, _EVENT_DEFAULT))
                   for e in schema.events.values()},
    }


def _text(value: object) -> str:
    return json.dumps(value, separators=(",", ":"))


def _type_text(text: str | bytes) -> TypeInfo:
    return _type_in(jsonlimit.loads(text))


def _command_text(text: str | bytes) -> Command:
    return _command_in(jsonlimit.loads(text))


def _event_text(text: str | bytes) -> Event:
    e = jsonlimit.loads(text)
    return Event(name=_str(e["name"]), args_type=_str(e.get("args_type", "")),
                 features=_strs(e.get("features", ())))


def _unchecked_type(name: str) -> TypeInfo:
    return TypeInfo(name=name, kind="builtin", builtin="any")


def _unchecked_command(name: str) -> Command:
    return Command(name=name, args_type="options")


def _unchecked_event(name: str) -> Event:
    return Event(name=name)


_TYPE_DEFAULT = TypeInfo(name="", kind="")
_COMMAND_DEFAULT = Command(name="", args_type="")
_EVENT_DEFAULT = Event(name="")


def _fields_out(obj: Any, default: Any) -> dict[str, Any]:
    out = {}
    for name, value in obj._asdict().items():
        if name == "name" or value != getattr(default, name):
            out[name] = list(value) if isinstance(value, tuple) else value
    return out


def _member_out(m: Member) -> list[Any]:
    """[name, type, optional, doc, features, hint] (Member's field order),
    without trailing defaults: most members are just [name, type]."""
    out: list[Any] = [m.name, m.type, m.optional, m.doc, list(m.features), m.hint]
    while len(out) > 2 and out[-1] in (False, "", []):
        out.pop()
    return out


def _type_out(info: TypeInfo) -> dict[str, Any]:
    out = _fields_out(info, _TYPE_DEFAULT)
    if info.members:
        out["members"] = [_member_out(m) for m in info.members]
    if info.variants:
        out["variants"] = [list(v) for v in info.variants]
    if info.value_features:
        out["value_features"] = [[v, list(f)] for v, f in info.value_features]
    return out


def _command_out(cmd: Command) -> dict[str, Any]:
    out = _fields_out(cmd, _COMMAND_DEFAULT)
    out["args_type"] = cmd.args_type
    if cmd.examples:
        out["examples"] = [e._asdict() for e in cmd.examples]
    return out


def _type_in(d: object) -> TypeInfo:
    if type(d) is not dict:
        raise TypeError("expected an object")
    return TypeInfo(**{key: _TYPE_FIELDS[key](value) for key, value in d.items()})


def _members_in(value: object) -> tuple[Member, ...]:
    return tuple(map(_member_in, _list(value)))


def _member_in(m: object) -> Member:
    """Checked inline: this runs for every member of every type on a warm start."""
    if type(m) is not list or not 2 <= len(m) <= 6:
        raise TypeError("member")
    name, type_name, *rest = m
    if type(name) is not str or type(type_name) is not str:
        raise TypeError("member name or type")
    if not rest:
        return Member(name, type_name)
    optional = rest[0]
    if type(optional) is not bool:
        raise TypeError("member optional")
    if len(rest) == 1:
        return Member(name, type_name, optional)
    optional, doc, features, hint = rest + [False, "", [], ""][len(rest):]
    return Member(name, type_name, optional, _str(doc), _strs(features), _str(hint))


def _value_features_in(value: object) -> tuple[tuple[str, tuple[str, ...]], ...]:
    return tuple((_str(name), _strs(features)) for name, features in _list(value))


def _variants_in(value: object) -> tuple[tuple[str, str], ...]:
    return tuple((_str(case), _str(type_name)) for case, type_name in _list(value))


def _command_in(d: Mapping[str, Any]) -> Command:
    get = d.get
    return Command(
        name=_str(d["name"]), args_type=_str(d["args_type"]),
        returns=_str(get("returns", "any")), doc=_str(get("doc", "")),
        title=_str(get("title", "")), group=_str(get("group", "regular")),
        features=_strs(get("features", ())), targets=_strs(get("targets", ())),
        examples=tuple(_example_in(e) for e in _list(get("examples", ()))),
        code=_str(get("code", "")))


def _example_in(d: Mapping[str, Any]) -> Example:
    line = d["line"]
    if type(line) is not int:
        raise TypeError("example line")
    return Example(line=line, direction=_str(d["direction"]), json=d.get("json"),
                   text=_str(d.get("text", "")), valid=_bool(d.get("valid", True)))


def _str(value: object) -> str:
    if type(value) is not str:
        raise TypeError(f"expected a string, got {type(value).__name__}")
    return value


def _strs(value: object) -> tuple[str, ...]:
    items = tuple(_list(value))
    if not all(type(v) is str for v in items):
        raise TypeError("expected a list of strings")
    return items


def _bool(value: object) -> bool:
    if type(value) is not bool:
        raise TypeError(f"expected a boolean, got {type(value).__name__}")
    return value


def _list(value: object) -> list[Any] | tuple[Any, ...]:
    if type(value) is not list and type(value) is not tuple:
        raise TypeError(f"expected a list, got {type(value).__name__}")
    return value


_TYPE_FIELDS: Mapping[str, Callable[[Any], Any]] = MappingProxyType({
    "name": _str, "kind": _str, "builtin": _str, "values": _strs,
    "members": _members_in, "open": _bool, "tag": _str, "variants": _variants_in,
    "element": _str, "alternatives": _strs, "features": _strs,
    "value_features": _value_features_in,
})
"""TypeInfo field -> its decoder; an unknown key makes the entry a miss."""
