"""The bottom toolbar: the signature of the command being typed, and what is
missing or wrong in the line before Enter is pressed.

:func:`toolbar_fragments` is pure (line + schema -> styled fragments), so it is
tested without a terminal; the prompt calls it on every redraw, which is why
it only looks at the words of one line.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from qmpshell.prompt.completion import (
    action_features,
    given_arguments,
    read_words,
    resolve_path,
    transaction_actions,
)
from qmpshell.schema.features import argument_flags, flagged_uses
from qmpshell.schema.model import BUILTINS, Schema, feature_marks, suggest
from qmpshell.shorthand.dotcommands import dot_command, dot_names

Fragments = list[tuple[str, str]]

IDLE = "Tab: complete   .help: commands   CMD ?: help on CMD   Ctrl-R: search   Ctrl-D: exit"

LineCheck = Callable[[str], str | None]
"""Checks a whole line, returning an error message or None (the parser)."""


def short_type(schema: Schema, type_name: str) -> str:
    """A type in a few characters, for signatures: 'string', 'a|b|c',
    'enum', '{BlockdevOptions}', '[string]'."""
    info = schema.resolve(type_name)
    if info.kind == "builtin":
        return BUILTINS.get(info.builtin, info.builtin)
    if info.kind == "enum":
        return "|".join(info.values) if len(info.values) <= 4 else "enum"
    if info.kind == "array":
        return f"[{short_type(schema, info.element)}]"
    if info.kind == "alternate":
        return "|".join(short_type(schema, a) for a in info.alternatives)
    if info.open and not info.members:
        return "options"
    return "{...}" if info.name.isdigit() else f"{{{info.name}}}"


def signature(schema: Schema, name: str, args_type: str, given: dict[str, Any],
              current: str = "") -> Fragments:
    """``name  arg:type?  ...`` with the argument at the cursor (or those the
    partial word there may become) emphasised."""
    out: Fragments = [("class:toolbar.command", name)]
    members = schema.members_for(args_type, given)
    names = [m.name for m in members]
    at = {current} if current in names else {n for n in names if current and n.startswith(current)}
    for m in members:
        style = "class:toolbar.current" if m.name in at else "class:toolbar.arg"
        if m.name in given and m.name != current:
            style = "class:toolbar.given"
        out.append(("", "  "))
        out.append((style, f"{m.name}:{short_type(schema, m.type)}{'?' if m.optional else ''}"))
    return out


def problems(schema: Schema, args_type: str, given: dict[str, Any],
             typing: tuple[str, ...] = ()) -> list[str]:
    """Unknown argument names and missing required ones, outermost first.

    ``typing`` is the dotted key being typed (``file.fil``): the object it
    fills in is not reported missing, its own required members are."""
    found: list[str] = []
    _check_level(schema, args_type, given, "", typing, found)
    return found


def _check_level(schema: Schema, type_name: str, given: dict[str, Any], prefix: str,
                 typing: tuple[str, ...], found: list[str]) -> None:
    info = schema.resolve(type_name)
    if info.kind not in ("object", "alternate") or (info.open and not info.members):
        return
    members = {m.name: m for m in schema.members_for(type_name, given)}
    for key, value in given.items():
        member = members.get(key)
        if member is None:
            if not info.open:
                found.append(f"unknown argument: {prefix}{key}" + _did_you_mean(key, members))
            continue
        if isinstance(value, dict):
            inner = typing[1:] if typing[:1] == (key,) else ()
            _check_level(schema, member.type, value, f"{prefix}{key}.", inner, found)
    if len(typing) > 1 and typing[0] in members and typing[0] not in given:
        _check_level(schema, members[typing[0]].type, {}, f"{prefix}{typing[0]}.",
                     typing[1:], found)
    missing = [f"{prefix}{m.name}" for m in members.values()
               if not m.optional and m.name not in given
               and not (len(typing) > 1 and m.name == typing[0])]
    if missing:
        found.append("missing: " + ", ".join(missing))


def _did_you_mean(word: str, names: Iterable[str]) -> str:
    close = suggest(word, names, limit=1)
    return f" (did you mean {close[0]}?)" if close else ""


def toolbar_fragments(text: str, schema: Schema, *, transaction: bool = False,
                      check: LineCheck | None = None) -> Fragments:
    """What the toolbar shows for the line ``text``.

    ``check`` (the shorthand parser, when available) reports errors that need
    more than names: bad values, unbalanced quotes."""
    stripped = text.strip()
    if not stripped:
        return [("class:toolbar.idle", "TRANS: one action per line, ')' ends" if transaction
                 else IDLE)]
    words = read_words(stripped)
    all_words = [*words.done, words.current] if words.current else list(words.done)
    if not all_words:
        return [("class:toolbar.idle", "comment")]
    first = all_words[0]
    if first.startswith("."):
        spec = dot_command(first)
        if spec is None:
            return [("class:toolbar.error", f"unknown shell command {first}"
                     + _did_you_mean(first, dot_names()))]
        return [("class:toolbar.command", first), ("", "  " + spec.summary)]
    if first.startswith(("{", "[", ")")) or first.startswith("transaction("):
        return _with_check([], text, check)
    args_type = _args_type(schema, first, transaction)
    if args_type is None and not words.done:
        starting = typing_prefix_of(first, schema, transaction)
        if starting:
            shown = "  ".join(starting[:8]) + ("  ..." if len(starting) > 8 else "")
            return [("class:toolbar.idle", shown)]
    if args_type is None and first in schema.unavailable:
        return [("class:toolbar.error", schema.unavailable[first])]
    if args_type is None:
        return [("class:toolbar.error", f"unknown command {first}"
                 + _did_you_mean(first, schema.commands))]
    typed = all_words[1:]
    if typed and words.current and "=" not in words.current:
        typed = typed[:-1]
    given = given_arguments(typed)
    typing = tuple(words.current.split(".")) if len(all_words) > 1 and "=" not in words.current \
        and "." in words.current else ()
    current_key = words.current.partition("=")[0].split(".")[0] if len(all_words) > 1 else ""
    if "." in words.current.partition("=")[0]:
        out = _nested_signature(schema, args_type, words.current, given)
    else:
        out = signature(schema, first, args_type, given, current_key)
    issues = problems(schema, args_type, given, typing)
    if words.open:
        issues = [i for i in issues if not i.startswith("missing")]
    if issues:
        out.append(("", "   "))
        out.append(("class:toolbar.error", "; ".join(issues)))
    elif not words.open:
        out = _with_check(out, text, check)
    return out + feature_notes(schema, first, args_type, given, transaction)


def feature_notes(schema: Schema, name: str, args_type: str, given: dict[str, Any],
                  transaction: bool = False) -> Fragments:
    """A warning for each deprecated thing the line uses (the command, an
    argument, an enum value), and a note for each unstable one."""
    if transaction:
        flags = [(name, f) for f in feature_marks(action_features(schema).get(name, ()))]
        flags += argument_flags(schema, args_type, given)
    else:
        flags = flagged_uses(schema, name, given)
    out: Fragments = []
    for thing, feature in flags:
        out.append(("", "   "))
        if feature == "deprecated":
            out.append(("class:toolbar.warning", f"warning: '{thing}' is deprecated"))
        else:
            out.append(("class:toolbar.idle", f"'{thing}' is {feature}"))
    return out


def typing_prefix_of(word: str, schema: Schema, transaction: bool = False) -> list[str]:
    """The command (or action) names ``word`` is the start of: while a name is
    being typed it is not yet an unknown command."""
    names = transaction_actions(schema) if transaction else schema.commands
    return sorted(n for n in names if n.startswith(word) and n != word)


def _args_type(schema: Schema, name: str, transaction: bool) -> str | None:
    if transaction:
        return transaction_actions(schema).get(name)
    cmd = schema.command(name)
    return cmd.args_type if cmd is not None else None


def _nested_signature(schema: Schema, args_type: str, current: str,
                      given: dict[str, Any]) -> Fragments:
    """The members of the object a dotted key is inside (``file.``...)."""
    *parent, leaf = current.partition("=")[0].split(".")
    member, type_name = resolve_path(schema, args_type, tuple(parent), given)
    if member is None:
        return [("class:toolbar.error", f"no such argument: {'.'.join(parent)}")]
    level: Any = given
    for part in parent:
        level = level.get(part, {}) if isinstance(level, dict) else {}
    return signature(schema, ".".join(parent) + ".", type_name,
                     level if isinstance(level, dict) else {}, leaf)


def _with_check(out: Fragments, text: str, check: LineCheck | None) -> Fragments:
    if check is None:
        return out
    message = check(text)
    if message:
        return [*out, ("", "   "), ("class:toolbar.error", message)]
    return out


ELLIPSIS = "\N{HORIZONTAL ELLIPSIS}"


def fit_toolbar(fragments: Fragments, width: int) -> Fragments:
    """The toolbar in ``width`` columns: what is wrong (errors, what is
    missing) first, then as much of the signature as fits, cut with '…'."""
    errors = [f for f in fragments if f[0] == "class:toolbar.error"]
    rest = list(fragments)
    if errors and rest[0][0] != "class:toolbar.error":
        rest = [f for f in fragments if f[0] != "class:toolbar.error"]
        while rest and not rest[-1][1].strip():
            rest.pop()
        ordered: Fragments = []
        for error in errors:
            ordered += [error, ("", "   ")]
        rest = ordered + rest
    out: Fragments = []
    room = max(width - 1, 1)
    for style, text in rest:
        if len(text) > room:
            out.append((style, text[:max(room - 1, 0)] + ELLIPSIS))
            break
        out.append((style, text))
        room -= len(text)
    return out
