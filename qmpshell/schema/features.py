"""What a request uses that the server's schema marks ``deprecated`` or
``unstable``: the command itself, an argument (at any depth), or an enum
value (a transaction's ``drive-backup`` action, a migration capability).

Pure: a request and a schema in, (name, feature) pairs out, for the toolbar
and for the warning printed before a request is sent.
"""

from __future__ import annotations

from collections.abc import Mapping

from qmpshell.schema.model import Schema, feature_marks

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing
if TYPE_CHECKING:
    from typing import Any

MAX_DEPTH = 32
"""Nesting followed at most (QAPI types are recursive; requests are not deep)."""


def flagged_uses(schema: Schema, command: str,
                 arguments: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    """(name, feature) for each deprecated or unstable thing the request uses,
    in the order it appears: the command, then dotted argument names and
    enum values.  Empty for a command the schema does not know."""
    cmd = schema.command(command)
    if cmd is None:
        return []
    found = [(cmd.name, f) for f in feature_marks(cmd.features)] if cmd.features else []
    if not arguments:  # the usual query: nothing more to look at
        return found
    return _unique(found + argument_flags(schema, cmd.args_type, arguments))


def argument_flags(schema: Schema, type_name: str,
                   arguments: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    """The (name, feature) pairs of arguments of type ``type_name``."""
    found: list[tuple[str, str]] = []
    if isinstance(arguments, Mapping):
        _walk(schema, type_name, arguments, "", found, 0)
    return _unique(found)


def _unique(found: list[tuple[str, str]]) -> list[tuple[str, str]]:
    unique: list[tuple[str, str]] = []
    for use in found:
        if use not in unique:
            unique.append(use)
    return unique


def request_flags(schema: Schema, request: Mapping[str, Any]) -> list[tuple[str, str]]:
    """:func:`flagged_uses` of a ``{"execute": ..., "arguments": ...}`` request."""
    command = request.get("execute")
    if not isinstance(command, str):
        return []
    return flagged_uses(schema, command, request.get("arguments"))


def deprecation_warnings(schema: Schema, request: Mapping[str, Any]) -> list[str]:
    """``'x' is deprecated`` for each deprecated thing the request uses."""
    return [f"'{name}' is deprecated" for name, feature in request_flags(schema, request)
            if feature == "deprecated"]


def _walk(schema: Schema, type_name: str, value: object, path: str,
          found: list[tuple[str, str]], depth: int) -> None:
    if depth > MAX_DEPTH:
        return
    info = schema.resolve(type_name)
    if info.kind == "alternate":
        for alternative in info.alternatives:
            if _fits(schema, alternative, value):
                _walk(schema, alternative, value, path, found, depth + 1)
                return
    elif info.kind == "enum" and isinstance(value, str):
        found.extend((value, f) for f in feature_marks(info.features_of(value)))
    elif info.kind == "array" and isinstance(value, list):
        for item in value:
            _walk(schema, info.element, item, path, found, depth + 1)
    elif info.kind == "object" and isinstance(value, Mapping):
        members = {m.name: m for m in schema.members_for(type_name, value)}
        for key, item in value.items():
            member = members.get(key)
            if member is None:
                continue
            name = f"{path}{key}"
            found.extend((name, f) for f in feature_marks(member.features))
            _walk(schema, member.type, item, name + ".", found, depth + 1)


def _fits(schema: Schema, type_name: str, value: object) -> bool:
    """Whether an alternative of an alternate can hold ``value`` (by JSON kind)."""
    info = schema.resolve(type_name)
    if info.kind == "object":
        return isinstance(value, Mapping)
    if info.kind == "array":
        return isinstance(value, list)
    if info.kind == "enum":
        return isinstance(value, str) and value in info.values
    return info.kind == "builtin" and not isinstance(value, (Mapping, list))
