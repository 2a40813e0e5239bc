"""Completion: what goes at the cursor, and the prompt_toolkit completer.

:func:`suggest` is a pure function from the text before the cursor and the
schema to the *kind* of thing that goes there (a command, an argument name, a
nested member, a value...), in the manner of pgcli's ``suggest_type``.
:func:`static_candidates` turns that into the names the schema alone knows.
:class:`QmpCompleter` is the thin prompt_toolkit layer on top; it adds file
paths and live values (block devices, node names...) fetched through an
injected :class:`ValueSource`, never waiting on the server for long.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from prompt_toolkit.completion import CompleteEvent, Completer, Completion, PathCompleter
from prompt_toolkit.document import Document

from qmpshell.runner.fleet import ALL, typed_target
from qmpshell.runner.help import first_line
from qmpshell.schema.hints import argument_names_hint, value_hint
from qmpshell.schema.model import Member, Schema, feature_marks
from qmpshell.shorthand.dotcommands import DOT_COMMANDS, dot_command
from qmpshell.shorthand.literals import LiteralError
from qmpshell.shorthand.words import scan, split_key, unquote
from qmpshell.terminaltext import visible

Kind = str
"""One of 'command', 'dot-command', 'argument', 'member', 'value', 'event',
'choice', 'none'."""


@dataclass(frozen=True)
class Suggestion:
    """What kind of thing goes at the cursor, and what is already there."""

    kind: Kind
    prefix: str = ""
    """The partial word the completion replaces."""
    command: str = ""
    path: tuple[str, ...] = ()
    """For 'value': the argument's key path; for 'member': the parent's path."""
    given: dict[str, Any] = field(default_factory=dict)
    """Arguments already typed, nested by dotted keys (values as typed)."""
    type_name: str = ""
    """For 'value': the value's type; for 'member'/'argument': the object type."""
    member: Member | None = None
    """For 'value': the argument being given a value."""
    hint: str = ""
    """For 'value': which live values complete it ('block-device', 'file'...)."""
    choices: tuple[str, ...] = ()
    """For 'choice': the fixed words allowed."""


@dataclass(frozen=True)
class Candidate:
    """One completion: inserted text, what the menu shows, and its note."""

    text: str
    display: str = ""
    meta: str = ""


NONE = Suggestion("none")


# -- reading the line ------------------------------------------------------

@dataclass
class _Words:
    done: list[str]
    current: str
    open: bool
    """The cursor is inside a quoted string or a JSON value."""
    comment: bool = False
    """The text ends in a comment (the words are those before it)."""


def read_words(text: str) -> _Words:
    """The words of a line as the parser reads them (quoted strings and JSON
    values whole; ``#`` starts a comment only at the start of a word), the
    last one apart when the text ends inside it."""
    scanned = scan(text)
    words = scanned.words
    touching = bool(scanned.spans) and scanned.spans[-1][1] == len(text)
    if scanned.comment is not None or not touching:
        return _Words(words, "", False, scanned.comment is not None)
    return _Words(words[:-1], words[-1], scanned.open)


def split_words(text: str) -> _Words | None:
    """The words before the cursor; None when the cursor is inside a comment."""
    words = read_words(text)
    return None if words.comment else words


def given_arguments(words: Iterable[str]) -> dict[str, Any]:
    """``key=value`` words as a nested dict (``a.b=1`` -> {'a': {'b': '1'}});
    a bare word counts as a flag set to True."""
    given: dict[str, Any] = {}
    for word in words:
        pair = split_key(word)
        key, value = pair if pair is not None else (word, None)
        node = given
        parts = key.split(".")
        for part in parts[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = node[part] = {}
            node = child
        node[parts[-1]] = _unquote(value) if value is not None else True
    return given


def _unquote(value: str) -> str:
    try:
        return unquote(value)[0]
    except LiteralError:
        return value


# -- what goes here --------------------------------------------------------

def suggest(text_before_cursor: str, schema: Schema, *, transaction: bool = False) -> Suggestion:
    """What kind of thing completes ``text_before_cursor``.

    ``transaction`` is true inside an open ``transaction(``, where a line is
    an action (``blockdev-snapshot-sync device=...``) rather than a command.
    In ``transaction( a ... ; b ...`` completion starts again after each ``;``."""
    text = text_before_cursor.lstrip()
    if text.startswith(("{", "?")):
        return NONE
    words = split_words(text)
    if words is None or words.open:
        return NONE
    if not words.done:
        return _first_word(words.current, transaction)
    first = words.done[0]
    if first.startswith(".") and not transaction:
        return _dot_argument(first, words)
    action = _current_action(words.done, transaction)
    if action is not None:
        if ")" in action:
            return NONE
        if not action:
            return Suggestion("action", prefix=words.current)
        actions = transaction_actions(schema)
        if action[0] not in actions:
            return NONE
        return _argument_part(action[0], actions[action[0]], action[1:], words.current, schema)
    if first == ")":
        return NONE
    cmd = schema.command(first)
    if cmd is None or words.current == "?":
        return NONE
    return _argument_part(first, cmd.args_type, words.done[1:], words.current, schema)


def _current_action(done: list[str], transaction: bool) -> list[str] | None:
    """The typed words of the transaction action the cursor is in (after
    ``transaction(`` and the last ``;``); None outside a transaction."""
    if transaction:
        words = done
    elif done[0] == "transaction(":
        words = done[1:]
    elif done[:2] == ["transaction", "("]:
        words = done[2:]
    else:
        return None
    if ";" in words:
        words = words[len(words) - words[::-1].index(";"):]
    return words


def _first_word(word: str, transaction: bool) -> Suggestion:
    if word.startswith("."):
        return Suggestion("dot-command", prefix=word)
    if transaction:
        return Suggestion("action", prefix=word)
    return Suggestion("command", prefix=word)


def _dot_argument(dot: str, words: _Words) -> Suggestion:
    """What completes a dot-command's argument: the registry says, by position."""
    spec = dot_command(dot)
    position = len(words.done) - 1
    if spec is None or position >= len(spec.completes):
        return NONE
    slot = spec.completes[position]
    if isinstance(slot, tuple):
        return Suggestion("choice", prefix=words.current, command=dot, choices=slot)
    if slot in ("file", "hmp-command"):
        return Suggestion("value", prefix=words.current, command=dot, hint=slot)
    return Suggestion(slot, prefix=words.current)


def _argument_part(command: str, args_type: str, done: list[str], current: str,
                   schema: Schema) -> Suggestion:
    given = given_arguments(done)
    key, eq, value = current.partition("=")
    if eq:
        path = tuple(key.split("."))
        member, type_name = resolve_path(schema, args_type, path, given)
        if member is None or value[:1] in ("{", "[", '"', "'"):
            return NONE
        return Suggestion("value", prefix=value, command=command, path=path, given=given,
                          type_name=type_name, member=member,
                          hint=value_hint(command, member, schema, given))
    if "." in current:
        *parent, leaf = current.split(".")
        member, type_name = resolve_path(schema, args_type, tuple(parent), given)
        if member is None:
            return NONE
        return Suggestion("member", prefix=leaf, command=command, path=tuple(parent),
                          given=given, type_name=type_name)
    return Suggestion("argument", prefix=current, command=command, given=given,
                      type_name=args_type, hint=argument_names_hint(command, given))


def resolve_path(schema: Schema, type_name: str, path: tuple[str, ...],
                 given: dict[str, Any]) -> tuple[Member | None, str]:
    """The member a dotted key names, and its type, following union branches
    chosen by the tags in ``given`` and list indexes (``capabilities.0``);
    (None, '') when the path names nothing."""
    member: Member | None = None
    level: Any = given
    for part in path:
        level_given = level if isinstance(level, dict) else {}
        info = schema.resolve(type_name)
        if member is not None and info.kind == "array" and part.isdigit():
            type_name = info.element
            level = level_given.get(part)
            continue
        member = next((m for m in schema.members_for(type_name, level_given)
                       if m.name == part), None)
        if member is None:
            return None, ""
        type_name = member.type
        level = level_given.get(part)
    return member, type_name


def transaction_actions(schema: Schema) -> dict[str, str]:
    """Action name -> the object type of its data: the branches of the
    ``transaction`` command's ``actions`` union (on 'type') in a live schema,
    else every command (the bundled table types an action as its command)."""
    actions_member = schema.arguments("transaction").member("actions")
    info = schema.resolve(actions_member.type) if actions_member is not None else None
    if info is not None and info.kind == "array":
        info = schema.resolve(info.element)
    if schema.command("transaction") is None or info is None or info.tag != "type":
        return {name: cmd.args_type for name, cmd in schema.commands.items()}
    found: dict[str, str] = {}
    for action, branch in info.variants:
        data = schema.resolve(branch).member("data")
        found[action] = data.type if data is not None else branch
    return found


def action_features(schema: Schema) -> dict[str, tuple[str, ...]]:
    """Transaction action -> its features (``drive-backup`` is deprecated),
    from the enum of the actions' ``type`` tag in a live schema."""
    actions_member = schema.arguments("transaction").member("actions")
    if actions_member is None:
        return {}
    info = schema.resolve(actions_member.type)
    if info.kind == "array":
        info = schema.resolve(info.element)
    tag = info.member(info.tag) if info.tag else None
    if tag is None:
        return {}
    return dict(schema.resolve(tag.type).value_features)


# -- names the schema knows -----------------------------------------------

def static_candidates(s: Suggestion, schema: Schema) -> list[Candidate]:
    """The completions for ``s`` that need no server and no file system,
    best first, filtered by the prefix."""
    if s.kind == "command":
        return _matching(s.prefix, _command_candidates(schema))
    if s.kind == "action":
        flagged = action_features(schema)
        return _matching(s.prefix, [
            Candidate(a, a, ", ".join(["transaction action", *feature_marks(flagged.get(a, ()))]))
            for a in sorted(transaction_actions(schema))])
    if s.kind == "dot-command":
        return _matching(s.prefix, [Candidate(d.name, d.name, d.summary) for d in DOT_COMMANDS])
    if s.kind == "event":
        return _matching(s.prefix, [Candidate(e, e, "event") for e in sorted(schema.events)])
    if s.kind == "choice":
        return _matching(s.prefix, [Candidate(c, c, "") for c in s.choices])
    if s.kind == "argument":
        return _matching(s.prefix, _member_candidates(schema, s.type_name, s.given))
    if s.kind == "member":
        level = _given_at(s.given, s.path)
        if schema.resolve(s.type_name).kind == "array":  # the next entry's index
            index = str(next(n for n in range(len(level) + 1) if str(n) not in level))
            return _matching(s.prefix, [Candidate(index + ".", index, "next entry")])
        return _matching(s.prefix, _member_candidates(schema, s.type_name, level))
    if s.kind == "value":
        return _matching(s.prefix, value_choices(schema, s.type_name))
    return []


def _command_candidates(schema: Schema) -> list[Candidate]:
    out = []
    for name in schema.command_names():
        cmd = schema.commands[name]
        note = cmd.title or first_line(cmd.doc)
        marks = feature_marks(cmd.features)
        if marks:
            note = f"({', '.join(marks)}) {note}".rstrip()
        out.append(Candidate(name, name, note))
    return out


def _given_at(given: dict[str, Any], path: tuple[str, ...]) -> dict[str, Any]:
    level: Any = given
    for part in path:
        level = level.get(part) if isinstance(level, dict) else None
    return level if isinstance(level, dict) else {}


def _member_candidates(schema: Schema, type_name: str, given: dict[str, Any]) -> list[Candidate]:
    """Members not given yet, required ones first; objects end in '.'."""
    members = schema.members_for(type_name, given)
    out: list[tuple[bool, Candidate]] = []
    for m in members:
        info = schema.resolve(m.type)
        is_object = info.kind == "object" and not info.open
        if m.name in given and not (is_object and isinstance(given[m.name], dict)):
            continue
        suffix = "." if is_object else "="
        note = ", ".join([schema.describe(m.type), *([] if m.optional else ["required"]),
                          *feature_marks(m.features)])
        doc = first_line(m.doc)
        if doc:
            note += f" - {doc}"
        out.append((m.optional, Candidate(m.name + suffix, m.name, note)))
    out.sort(key=lambda pair: pair[0])
    return [c for _, c in out]


def value_choices(schema: Schema, type_name: str) -> list[Candidate]:
    """The values a type allows, when it lists them (booleans, enums)."""
    info = schema.resolve(type_name)
    if info.kind == "builtin" and info.builtin in ("bool", "flag"):
        return [Candidate("true", "true", "boolean"), Candidate("false", "false", "boolean")]
    if info.kind == "enum":
        kind = info.name if not info.name.isdigit() else ""
        return [Candidate(v, v, ", ".join(filter(None, [kind, *feature_marks(
            info.features_of(v))]))) for v in info.values]
    if info.kind == "alternate":
        seen: list[Candidate] = []
        for alt in info.alternatives:
            for c in value_choices(schema, alt):
                if c.text not in {s.text for s in seen}:
                    seen.append(c)
        return seen
    return []


def _norm(word: str) -> str:
    return word.lower().replace("_", "-")


def _matching(prefix: str, candidates: Iterable[Candidate]) -> list[Candidate]:
    """Candidates starting with ``prefix`` ('-' and '_' alike, any case),
    then those merely containing it."""
    want = _norm(prefix)
    starts: list[Candidate] = []
    contains: list[Candidate] = []
    for c in candidates:
        name = _norm(c.text)
        if name.startswith(want):
            starts.append(c)
        elif want and want in name:
            contains.append(c)
    return starts + contains


# -- what Tab does ----------------------------------------------------------

@dataclass(frozen=True)
class TabChoice:
    """What Tab does to the word before the cursor, as readline does it: one
    candidate is taken whole, several give their common start and a menu;
    Tab never picks one of several."""

    text: str | None
    """The text replacing the word (None: the word stays as it is)."""
    menu: tuple[Candidate, ...] = ()
    """The candidates to show (empty after a lone candidate was taken)."""


_OPEN_ENDINGS = ("=", ".", "/")
"""A candidate ending so is not a whole word yet: no space after it."""


def tab_choice(prefix: str, candidates: Sequence[Candidate], *, ends_word: bool) -> TabChoice:
    """What Tab does with ``candidates`` for the word ``prefix``: those that
    start with it count ('-' and '_' alike, any case), or all of them when
    none does.  ``ends_word``: a lone candidate is followed by a space (a
    command, an enum value) unless it ends in '=', '.' or '/'."""
    want = _norm(prefix)
    pool = [c for c in candidates if _norm(c.text).startswith(want)] or list(candidates)
    texts = {c.text for c in pool}
    if not pool:
        return TabChoice(None)
    if len(texts) == 1:
        text = pool[0].text
        if ends_word and not text.endswith(_OPEN_ENDINGS):
            text += " "
        return TabChoice(text)
    common = _common_start(sorted(texts))
    grows = len(common) > len(prefix) and _norm(common).startswith(want)
    return TabChoice(common if grows else None, tuple(pool))


def _common_start(texts: Sequence[str]) -> str:
    first, last = texts[0], texts[-1]
    n = 0
    while n < min(len(first), len(last)) and first[n] == last[n]:
        n += 1
    return first[:n]


# -- live values -----------------------------------------------------------

Execute = Callable[[dict[str, Any]], Awaitable[Any]]
"""Sends one QMP request and returns its reply (or its 'return' value)."""


class ValueSource(Protocol):
    """Where live names come from (the connected server)."""

    async def values(self, hint: str, prefix: str) -> list[Candidate]:
        """Names for ``hint`` that may complete ``prefix``; [] when unknown
        or not available within the source's deadline."""
        ...

    def peek(self, hint: str, prefix: str) -> list[Candidate]:
        """The names already known for ``hint``, at once."""
        ...


class LiveValues:
    """Live names fetched through the client, cached for a few seconds.

    A look-up that outlasts ``deadline`` yields nothing for this keystroke but
    keeps running, so the next keystroke finds its answer in the cache."""

    def __init__(self, execute: Execute, ttl: float = 3.0, deadline: float = 0.3) -> None:
        self._execute = execute
        self._ttl = ttl
        self._deadline = deadline
        self._cache: dict[tuple[str, str], tuple[float, asyncio.Task[list[Candidate]]]] = {}

    async def values(self, hint: str, prefix: str) -> list[Candidate]:
        task = self._task(hint, prefix)
        if not task.done():
            await asyncio.wait({task}, timeout=self._deadline)
        return _result(task)

    def peek(self, hint: str, prefix: str) -> list[Candidate]:
        """The names known now, without waiting (Tab); a stale or missing
        answer is fetched for the next key."""
        return _result(self._task(hint, prefix))

    def forget(self) -> None:
        """Drop cached answers (after a reconnect)."""
        self._cache.clear()

    def _task(self, hint: str, prefix: str) -> asyncio.Task[list[Candidate]]:
        if hint == "qom-path":
            parent = (prefix.rsplit("/", 1)[0] if "/" in prefix else "") or "/"
            return self._cached("qom-path", parent, lambda: self._qom_paths(parent))
        return self._cached(hint, "", lambda: self._fetch(hint))

    def _cached(self, hint: str, key: str, fetch: Callable[[], Awaitable[list[Candidate]]]
                ) -> asyncio.Task[list[Candidate]]:
        now = time.monotonic()
        entry = self._cache.get((hint, key))
        if entry is None or now - entry[0] > self._ttl:
            task = asyncio.ensure_future(fetch())
            task.add_done_callback(_swallow)
            entry = (now, task)
            self._cache[(hint, key)] = entry
        return entry[1]

    async def _call(self, command: str, **arguments: Any) -> Any:
        request: dict[str, Any] = {"execute": command}
        if arguments:
            request["arguments"] = arguments
        reply = await self._execute(request)
        if isinstance(reply, dict) and ("return" in reply or "error" in reply):
            if "error" in reply:
                return None
            return reply["return"]
        return reply

    async def _fetch(self, hint: str) -> list[Candidate]:
        kind, _, key = hint.partition(":")
        if kind == "block-device":
            found = await self._call("query-block") or []
            return [Candidate(d["device"], d["device"], _block_note(d))
                    for d in found if d.get("device")]
        if kind == "node-name":
            return await self._nodes()
        if kind == "block-node":
            devices = await self._fetch("block-device")
            named = {c.text for c in devices}
            return devices + [c for c in await self._nodes() if c.text not in named]
        if kind == "job-id":
            found = await self._call("query-jobs") or []
            return [Candidate(j["id"], j["id"], f"{j.get('type', '')} {j.get('status', '')}")
                    for j in found if j.get("id")]
        if kind == "bitmap":
            found = await self._call("query-named-block-nodes", flat=True) or []
            return _unique(Candidate(b["name"], b["name"], n.get("node-name", ""))
                           for n in found if not key or n.get("node-name") == key
                           for b in n.get("dirty-bitmaps") or [] if b.get("name"))
        if kind in ("device-type", "object-type"):
            implements = "device" if kind == "device-type" else "user-creatable"
            found = await self._call("qom-list-types", implements=implements,
                                     abstract=False) or []
            return sorted((Candidate(t["name"], t["name"], t.get("parent", ""))
                           for t in found if t.get("name")), key=lambda c: c.text)
        if kind in ("device-property", "object-property"):
            command = "device-list-properties" if kind == "device-property" \
                else "qom-list-properties"
            found = await self._call(command, typename=key) or []
            return [Candidate(p["name"] + "=", p["name"], _property_note(p))
                    for p in found if p.get("name")]
        if kind == "qom-property":
            found = await self._call("qom-list", path=key) or []
            return [Candidate(p["name"], p["name"], str(p.get("type", "")))
                    for p in found if p.get("name")
                    and not str(p.get("type", "")).startswith("child<")]
        if kind == "hmp-command":
            text = await self._call("human-monitor-command", **{"command-line": "help"})
            return hmp_commands(text if isinstance(text, str) else "")
        if kind == "hmp-info":  # 'info NAME [args] -- what it shows', one per line
            text = await self._call("human-monitor-command", **{"command-line": "help info"})
            return hmp_commands("\n".join(line[len("info "):] for line in str(text).splitlines()
                                          if line.startswith("info ")))
        if hint == "chardev":
            found = await self._call("query-chardev") or []
            return [Candidate(c["label"], c["label"], c.get("filename", ""))
                    for c in found if c.get("label")]
        if hint == "device-id":
            found = await self._call("qom-list", path="/machine/peripheral") or []
            return [Candidate(p["name"], p["name"], _qom_type(p["type"]))
                    for p in found if str(p.get("type", "")).startswith("child<")]
        return []

    async def _nodes(self) -> list[Candidate]:
        found = await self._call("query-named-block-nodes", flat=True) or []
        nodes = [Candidate(n["node-name"], n["node-name"], n.get("drv", ""))
                 for n in found if n.get("node-name")]
        # names QEMU made up ('#block123') after the ones a person chose
        return sorted(nodes, key=lambda c: c.text.startswith("#"))

    async def _qom_paths(self, parent: str) -> list[Candidate]:
        found = await self._call("qom-list", path=parent) or []
        base = parent.rstrip("/")
        return [Candidate(f"{base}/{p['name']}", p["name"], _qom_type(p["type"]))
                for p in found if str(p.get("type", "")).startswith(("child<", "link<"))]


_HMP_INFO = re.compile(r"\s*(?:info|i)\s+(\S*)")


def hmp_suggestion(text: str) -> Suggestion:
    """What completes an HMP command line being typed: the command's name,
    then, after ``info``, what to show; nothing else."""
    word = text.lstrip()
    if not any(ch.isspace() for ch in word):
        return Suggestion("value", prefix=word, hint="hmp-command")
    info = _HMP_INFO.fullmatch(text)
    if info is not None:
        return Suggestion("value", prefix=info.group(1), hint="hmp-info")
    return NONE


def hmp_commands(help_text: str) -> list[Candidate]:
    """HMP command names from its ``help``: each line is ``name[|alias]
    [args] -- what it does``."""
    found: list[Candidate] = []
    for line in help_text.splitlines():
        if line[:1].isspace():
            continue  # the rest of the line before
        usage, _, doc = line.partition(" -- ")
        words = usage.split()
        if not words:
            continue
        for name in words[0].split("|"):
            if name and name[0].isalpha():
                found.append(Candidate(name, name, doc.strip()))
    return _unique(found)


def _unique(candidates: Iterable[Candidate]) -> list[Candidate]:
    seen: set[str] = set()
    out = []
    for c in candidates:
        if c.text not in seen:
            seen.add(c.text)
            out.append(c)
    return out


def _property_note(prop: dict[str, Any]) -> str:
    note = str(prop.get("type", ""))
    description = prop.get("description")
    return f"{note} - {description}" if description else note


def _result(task: asyncio.Task[list[Candidate]]) -> list[Candidate]:
    if task.done() and not task.cancelled() and task.exception() is None:
        return task.result()
    return []


def _swallow(task: asyncio.Task[list[Candidate]]) -> None:
    """Mark a failed look-up's exception as seen (it only means no values)."""
    if not task.cancelled():
        task.exception()


def _block_note(device: dict[str, Any]) -> str:
    inserted = device.get("inserted") or {}
    return str(inserted.get("file") or device.get("type", ""))


def _qom_type(qom_type: str) -> str:
    return qom_type.partition("<")[2].rstrip(">") or qom_type


# -- the prompt_toolkit completer -------------------------------------------

class Targets(Protocol):
    """The VMs an ``@TARGET line`` may name, and what types and completes
    the line after the target on them."""

    def names(self) -> Sequence[str]: ...

    def schema_for(self, target: str) -> Schema: ...

    def values_for(self, target: str) -> ValueSource | None: ...


class QmpCompleter(Completer):
    """Completions at the prompt: what :func:`suggest` says goes here."""

    def __init__(self, schema: Callable[[], Schema], values: ValueSource | None = None,
                 in_transaction: Callable[[], bool] = lambda: False, hmp: bool = False,
                 targets: Targets | None = None) -> None:
        """``hmp``: lines are HMP commands (``-H``), their names come from
        the server.  ``targets``: after ``@NAME``, the line is completed by
        that VM's schema and live names."""
        self._schema = schema
        self._values = values
        self._in_transaction = in_transaction
        self._hmp = hmp
        self._targets = targets
        self._paths = PathCompleter(expanduser=True)

    def _suggest(self, document: Document) -> tuple[Suggestion, Schema, ValueSource | None]:
        """What goes at the cursor, and the schema and live names that complete it."""
        text = document.text_before_cursor
        schema, values = self._schema(), self._values
        at = None if self._in_transaction() else typed_target(text)
        if at is not None:
            target, start = at
            if start < 0:
                names = self._targets.names() if self._targets is not None else ()
                return Suggestion("choice", prefix=f"@{target}",
                                  choices=(f"@{ALL}", *(f"@{n}" for n in names))), schema, values
            if self._targets is not None:
                schema, values = self._targets.schema_for(target), self._targets.values_for(target)
            text = text[start:]
        if self._hmp and not text.lstrip().startswith("."):
            return hmp_suggestion(text), schema, values
        if text.lstrip().startswith(".hmp ") and not self._in_transaction():
            return hmp_suggestion(text.lstrip()[len(".hmp "):]), schema, values
        s = suggest(text, schema, transaction=self._in_transaction())
        if s.kind == "vm":  # .use NAME, .disconnect NAME
            names = self._targets.names() if self._targets is not None else ()
            s = Suggestion("choice", prefix=s.prefix, choices=tuple(names))
        return s, schema, values

    def get_completions(self, document: Document,
                        complete_event: CompleteEvent) -> Iterator[Completion]:
        s, schema, _ = self._suggest(document)
        for cand in static_candidates(s, schema):
            yield _completion(cand, s.prefix)
        if s.kind == "value" and s.hint == "file":
            yield from self._files(s, complete_event)

    async def get_completions_async(self, document: Document, complete_event: CompleteEvent
                                    ) -> AsyncGenerator[Completion, None]:
        s, schema, values = self._suggest(document)
        static = static_candidates(s, schema)
        for cand in static:
            yield _completion(cand, s.prefix)
        if s.hint == "file":
            for c in self._files(s, complete_event):
                yield c
        elif s.hint and values is not None:
            live = await values.values(s.hint, s.prefix)
            for cand in _live(s, live, static):
                yield _completion(cand, s.prefix)

    def tab(self, document: Document) -> tuple[str, TabChoice]:
        """What Tab does at ``document`` (the word it replaces, and how),
        from the schema, the file system and the live names known now:
        nothing here waits on the server."""
        s, schema, values = self._suggest(document)
        candidates = static_candidates(s, schema)
        if s.kind == "value" and s.hint == "file":
            candidates += [_file_candidate(s.prefix, c) for c in
                           self._files(s, CompleteEvent(completion_requested=True))]
        elif s.hint and values is not None:
            candidates += _live(s, values.peek(s.hint, s.prefix), candidates)
        ends_word = s.kind != "value" or s.hint != "file"
        return s.prefix, tab_choice(s.prefix, candidates, ends_word=ends_word)

    def _files(self, s: Suggestion, event: CompleteEvent) -> Iterator[Completion]:
        yield from self._paths.get_completions(Document(s.prefix), event)


def _live(s: Suggestion, live: list[Candidate], static: list[Candidate]) -> list[Candidate]:
    """Live names matching the word, without those the schema gave already
    or (argument names) those the line has."""
    known = {c.text for c in static}
    given = {f"{k}=" for k in s.given} if s.kind == "argument" else set()
    return [c for c in _matching(s.prefix, live) if c.text not in known and c.text not in given]


def _file_candidate(prefix: str, c: Completion) -> Candidate:
    """A path completion (the rest of the name) as the whole word; a
    directory ends in '/'."""
    display = c.display_text
    text = prefix[:len(prefix) + c.start_position] + c.text
    return Candidate(text + ("/" if display.endswith("/") else ""), display)


def _completion(c: Candidate, prefix: str) -> Completion:
    """The menu shows names and notes from the server with control characters visible."""
    return Completion(c.text, start_position=-len(prefix),
                      display=visible(c.display or c.text), display_meta=visible(c.meta))
