"""The live schema: what the connected QEMU says it accepts.

Every QEMU since 2.5 describes its commands, events and types through
``query-qmp-schema`` (see QEMU's ``qapi/introspect.json``).  This module turns
that reply into the same :class:`~qmpshell.schema.model.Schema` the bundled table
builds, merges it with the bundled documentation, and loads it from a connected
server (through the disk cache of :mod:`qmpshell.schema.cache`).

Type names in a reply are masked numbers (``"49"``, ``"[10]"``); they are kept
as given, since they are only references: users read :meth:`Schema.describe`.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable, Iterable, Mapping
from types import MappingProxyType

from qmpshell.debug import note
from qmpshell.errors import QMPError, SchemaError
from qmpshell.schema import cache as schemacache
from qmpshell.schema.cache import StrPath
from qmpshell.schema.model import Command, Event, Member, Schema, TypeInfo

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing
if TYPE_CHECKING:
    from typing import Any, TypeAlias

Execute: TypeAlias = "Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]"
"""Send one request, return the reply: ``{"return": ...}`` or ``{"error": ...}``."""

BUILTIN_NAMES: Mapping[str, str] = MappingProxyType({
    "str": "str", "QType": "str",
    "int": "int", "int8": "int", "int16": "int", "int32": "int", "int64": "int",
    "uint8": "int", "uint16": "int", "uint32": "int", "uint64": "int",
    "size": "size", "number": "number", "bool": "bool", "any": "any", "null": "null",
})
"""QAPI builtin names -> our builtin type names (QEMU itself sends only the JSON ones)."""

JSON_TYPES: Mapping[str, str] = MappingProxyType({
    "string": "str", "int": "int", "number": "number", "boolean": "bool",
    "null": "null", "value": "any",
})
"""A builtin's ``json-type`` -> our builtin name, for builtin names we do not know."""

OPEN_ARGUMENTS = frozenset({"device_add", "netdev_add", "object-add"})
"""Commands declared ``'gen': false`` in QAPI: they accept keys their schema does
not list (device properties), which introspection cannot express.  Only applied
when the arguments are not a flat union (object-add and netdev_add became
unions in QEMU 6.0)."""

REFINEMENTS = frozenset({("str", "file"), ("int", "size"), ("bool", "flag")})
"""(live type, spec type) pairs where the spec's type is the better one: the same
JSON on the wire, but it completes file names, reads as a size, or may be bare."""

FREE_FORM = "options"
"""The open argument type of commands whose arguments the server did not describe."""


# -- query-qmp-schema -> Schema ---------------------------------------------
def schema_from_qapi(reply: object, *, source: str = "live") -> Schema:
    """Build the model from a ``query-qmp-schema`` return value (the list, or
    the whole ``{"return": [...]}`` reply).  Raises SchemaError if it is not one."""
    entries = qapi_entries(reply)
    renames = {e["name"]: _builtin_name(e) for e in entries if e.get("meta-type") == "builtin"}

    def ref(name: object) -> str:
        text = str(name)
        return renames.get(text, text)

    types: dict[str, TypeInfo] = {}
    commands: dict[str, Command] = {}
    events: dict[str, Event] = {}
    for entry in entries:
        meta, name = entry.get("meta-type"), str(entry.get("name", ""))
        features = _features(entry)
        if meta == "command":
            commands[name] = Command(
                name=name, args_type=ref(entry.get("arg-type", "empty")),
                returns=ref(entry.get("ret-type", "any")), group="live", features=features)
        elif meta == "event":
            events[name] = Event(name=name, args_type=ref(entry.get("arg-type", "")),
                                 features=features)
        elif meta in ("builtin", None):
            continue
        else:
            info = _type_info(entry, ref)
            if info is not None:
                types[name] = info
    schema = Schema(commands=commands, types=types, events=events, source=source,
                    complete=True)
    _open_gen_false_commands(schema)
    return schema


def qapi_entries(reply: object) -> list[dict[str, Any]]:
    """The entry list of a ``query-qmp-schema`` reply, checked for shape."""
    if isinstance(reply, dict) and "return" in reply:
        reply = reply["return"]
    if not isinstance(reply, list) or not all(
            isinstance(e, dict) and isinstance(e.get("name"), str) and "meta-type" in e
            for e in reply):
        raise SchemaError("not a query-qmp-schema reply: expected a list of "
                          "objects with 'name' and 'meta-type'")
    return reply


def _builtin_name(entry: Mapping[str, Any]) -> str:
    name = str(entry["name"])
    return BUILTIN_NAMES.get(name) or JSON_TYPES.get(str(entry.get("json-type")), "any")


def _features(entry: Mapping[str, Any]) -> tuple[str, ...]:
    return tuple(str(f) for f in entry.get("features", ()))


def _type_info(entry: Mapping[str, Any], ref: Callable[[object], str]) -> TypeInfo | None:
    """One non-builtin type entry; None for a meta-type this QEMU invented later."""
    name, meta, features = str(entry["name"]), entry["meta-type"], _features(entry)
    if meta == "enum":
        values = entry.get("values")
        if values is None:  # QEMU >= 9.1 sends only 'members'
            values = [m["name"] for m in entry.get("members", ())]
        marked = tuple((str(m["name"]), _features(m)) for m in entry.get("members", ())
                       if isinstance(m, Mapping) and m.get("features"))
        return TypeInfo(name=name, kind="enum", values=tuple(map(str, values)),
                        features=features, value_features=marked)
    if meta == "object":
        members = tuple(
            Member(name=str(m["name"]), type=ref(m["type"]), optional="default" in m,
                   features=_features(m))
            for m in entry.get("members", ()))
        variants = tuple((str(v["case"]), ref(v["type"])) for v in entry.get("variants", ()))
        return TypeInfo(name=name, kind="object", members=members,
                        tag=str(entry.get("tag", "")), variants=variants, features=features)
    if meta == "array":
        return TypeInfo(name=name, kind="array", element=ref(entry["element-type"]),
                        features=features)
    if meta == "alternate":
        return TypeInfo(name=name, kind="alternate",
                        alternatives=tuple(ref(m["type"]) for m in entry.get("members", ())),
                        features=features)
    return None


def _open_gen_false_commands(schema: Schema) -> None:
    """Let the commands of :data:`OPEN_ARGUMENTS` take unlisted keys."""
    for name in OPEN_ARGUMENTS & schema.commands.keys():
        cmd = schema.commands[name]
        args = schema.types.get(cmd.args_type)
        if args is None or args.kind != "object" or args.tag:
            continue
        own = f"{name}.arguments"
        schema.types[own] = args._replace(name=own, open=True)
        schema.commands[name] = cmd._replace(args_type=own)


def schema_from_commands(names: Iterable[str], *, source: str = "live") -> Schema:
    """A model for a server without introspection (``query-commands``): names
    only, every command's arguments free-form so the parser accepts any key."""
    commands = {n: Command(name=n, args_type=FREE_FORM, group="live") for n in names}
    return Schema(commands=commands, source=source, complete=True)


# -- merge ------------------------------------------------------------------
def merge_schemas(live: Schema, bundled: Schema) -> Schema:
    """The live schema's commands and types, documented by the bundled spec.

    The server decides what exists and what it accepts (commands only the
    bundled spec knows are dropped; features such as 'deprecated' are the
    server's); the spec supplies title, text, examples, group and member docs.
    Commands whose arguments the server did not describe take the spec's."""
    types = dict(live.types)
    commands: dict[str, Command] = {}
    for name, cmd in live.commands.items():
        doc = bundled.commands.get(name)
        if doc is None:
            commands[name] = cmd
            continue
        args_type = cmd.args_type
        if _free_form(live, args_type):
            args_type = _adopt_type(doc.args_type, bundled, types)
        else:
            args_type = _document_arguments(name, live.resolve(args_type),
                                            bundled.arguments(doc), types)
        commands[name] = cmd._replace(
            args_type=args_type, doc=doc.doc, title=doc.title, group=doc.group,
            examples=doc.examples, code=doc.code)
    return Schema(commands=commands, types=types, events=dict(live.events), source=live.source,
                  complete=live.complete)


def _free_form(schema: Schema, type_name: str) -> bool:
    info = schema.resolve(type_name)
    return info.kind == "object" and info.open and not info.members and not info.tag


def _document_arguments(command: str, live_args: TypeInfo, spec_args: TypeInfo,
                        types: dict[str, TypeInfo]) -> str:
    """The live argument type with the spec's member docs and hints, stored under
    its own name when anything was added (live types may be shared)."""
    if live_args.kind != "object":
        return live_args.name
    by_name = {m.name.replace("_", "-"): m for m in spec_args.members}
    members = []
    for member in live_args.members:
        spec = by_name.get(member.name.replace("_", "-"))
        if spec is not None:
            refined = (member.type, spec.type) in REFINEMENTS
            member = member._replace(
                doc=member.doc or spec.doc, hint=member.hint or spec.hint,
                type=spec.type if refined else member.type)
        members.append(member)
    if tuple(members) == live_args.members:
        return live_args.name
    own = f"{command}.arguments"
    types[own] = live_args._replace(name=own, members=tuple(members))
    return own


def _adopt_type(name: str, source: Schema, types: dict[str, TypeInfo]) -> str:
    """Copy ``name`` and every type it refers to from ``source`` into ``types``."""
    pending = [name]
    while pending:
        info = source.types.get(pending.pop())
        if info is None or info.name in types:
            continue
        types[info.name] = info
        pending.extend(m.type for m in info.members)
        pending.extend(t for _, t in info.variants)
        pending.extend(info.alternatives)
        if info.element:
            pending.append(info.element)
    return name


# -- loading from a server --------------------------------------------------
async def live_schemas(execute: Execute, greeting: Mapping[str, Any] | None,
                       bundled: Schema | Callable[[], Schema],
                       cache_dir: StrPath | None) -> AsyncGenerator[Schema, None]:
    """Yield the schema of the connected server: first the cached one when the
    cache knows this QEMU (no schema round trip), then a fresh one only if the
    server's schema differs from the cached (or nothing was cached).

    Each is documented by the ``bundled`` table (a schema, or what loads it:
    a cached entry is kept already documented, so a warm start never reads
    the table).  Meant to run in the background after connecting: ``async
    for schema in live_schemas(...): use(schema)``.  QMP errors other than a
    missing ``query-qmp-schema`` raise QMPError."""
    documentation = bundled if callable(bundled) else lambda: bundled
    key = None
    cached = None
    qemu = ""
    table = documented_by()
    if cache_dir is not None and greeting:
        target = await _target(execute)
        key = schemacache.cache_key(greeting, target)
        qemu = schemacache.describe_qemu(greeting, target)
        cached = schemacache.load(cache_dir, key, table)
        if cached is not None:
            schemacache.mark_used(cache_dir, key)
            note("schema", "the cache knows this QEMU build: its schema comes first")
            yield cached.schema
    reply = await execute({"execute": "query-qmp-schema"})
    if "error" in reply:
        _raise_unless_not_found(reply)
        note("schema", "no query-qmp-schema: command names from query-commands")
        names = _return(await execute({"execute": "query-commands"}))
        yield merge_schemas(schema_from_commands(_command_names(names)), documentation())
        return
    entries = reply.get("return")
    digest = schemacache.reply_digest(entries)
    if cached is not None and cached.digest == digest:
        note("schema", "the cached schema matches the server's")
        return
    if cached is not None:
        note("schema", "the cached schema differs from the server's: replaced")
    merged = merge_schemas(schema_from_qapi(entries), documentation())
    if cache_dir is not None and key is not None:
        schemacache.store(cache_dir, key, merged, digest, qemu, table)
    yield merged


def documented_by() -> str:
    """Which bundled table documents a cached schema: a cached entry is
    stored merged with it, so another table (an upgrade) makes it a miss."""
    from qmpshell.schema.table import table_identity

    return f"{schemacache.FORMAT}:{table_identity()}"


async def load_live_schema(execute: Execute, greeting: Mapping[str, Any] | None,
                           bundled: Schema | Callable[[], Schema],
                           cache_dir: StrPath | None) -> Schema:
    """The first schema :func:`live_schemas` yields: the cached one when there
    is one (fast), else the freshly introspected one.  Use ``live_schemas`` to
    also get the correction when a cached schema turns out stale."""
    stream = live_schemas(execute, greeting, bundled, cache_dir)
    try:
        return await anext(stream)
    finally:
        await stream.aclose()


async def checked_live_schema(execute: Execute, greeting: Mapping[str, Any] | None,
                              bundled: Schema, cache_dir: StrPath | None) -> Schema:
    """The last schema :func:`live_schemas` yields: the cached one only once
    the digest of the server's ``query-qmp-schema`` matched it (a QEMU rebuilt
    with the same version string replaces its entry), else the fresh one.
    For scripts, before their first line."""
    stream = live_schemas(execute, greeting, bundled, cache_dir)
    try:
        schemas = [schema async for schema in stream]
    finally:
        await stream.aclose()
    return schemas[-1] if schemas else bundled


async def _target(execute: Execute) -> str:
    """The target architecture: the greeting's version does not tell
    qemu-system-x86_64 from qemu-system-aarch64, whose schemas differ."""
    reply = await execute({"execute": "query-target"})
    arch = reply.get("return", {}).get("arch") if isinstance(reply.get("return"), dict) else None
    return str(arch) if arch else ""


def _raise_unless_not_found(reply: Mapping[str, Any]) -> None:
    error = reply.get("error") or {}
    if error.get("class") != "CommandNotFound":
        raise QMPError(str(error.get("class", "GenericError")), str(error.get("desc", "")))


def _return(reply: Mapping[str, Any]) -> object:
    if "error" in reply:
        error = reply["error"] or {}
        raise QMPError(str(error.get("class", "GenericError")), str(error.get("desc", "")))
    return reply.get("return")


def _command_names(reply: object) -> list[str]:
    if not isinstance(reply, list):
        raise SchemaError("query-commands did not return a list")
    return [str(c["name"]) for c in reply if isinstance(c, dict) and "name" in c]
