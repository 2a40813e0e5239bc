"""The shorthand language: ``block_resize device=scratch size=1G`` to a QMP
request and back.

Grammar, one line at a time (``#`` at the start of a word, outside quotes
and brackets, starts a comment, as in a POSIX shell, so ``file=a#b`` keeps
its ``#``; blank and comment-only lines are nothing to send)::

    line        := command | json-request | transaction-part
    command     := NAME word*
    word        := KEY=VALUE | FLAG
    KEY         := NAME ('.' NAME)*          dotted keys build nested objects
    FLAG        := NAME | -X | --NAME        a boolean argument set to true
    VALUE       := (bare | "quoted" | 'quoted' | [...] | {...})+
    json-request:= {"execute": ...}          passed through untouched
    transaction := 'transaction(' action (';' action)* ')'
    action      := NAME word*                typed as the command NAME, or by
                                             the live schema's action branch

A transaction may span lines as in QEMU's ``qmp-shell``: ``transaction(``
alone or followed by the first action, then one action per line, and ``)``
alone or as the last word of the last action's line.  Several actions may
share a line when separated by a ``;`` word.

Quotes group a value and decode JSON escapes (``\\"``, ``\\n``, ``\\u00e9``);
an unknown escape such as ``\\d`` stays as typed.  Brackets group a JSON or
Python-style value, spaces included.

Values are typed by the schema (see :mod:`qmpshell.shorthand.values`).  Every error is
one :class:`ParseError` line pointing at the column, in these shapes::

    unknown command 'block_resiz' (did you mean 'block_resize'?)
    block_resize: unknown argument 'sise' (did you mean 'size'?)
    block_resize: missing required argument 'size' (size)
    block_resize: size: expected a size such as 1G or 4096, got 'big'
    blockdev-add: missing required argument 'file.filename' (string)
    block_resize: duplicate argument 'size'
"""

from __future__ import annotations

import json
import re

from qmpshell import jsonlimit
from qmpshell.errors import ParseError
from qmpshell.records import Record
from qmpshell.schema.model import Member, Schema, TypeInfo, suggest
from qmpshell.shorthand.values import Literal, Tree, Typer, Word, bare_literal
from qmpshell.shorthand.words import scan, split_key, unquote

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing
if TYPE_CHECKING:
    from typing import Any, TypeAlias

Request: TypeAlias = "dict[str, Any]"

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.+-]*", re.ASCII)
_PLAIN_KEY = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_+-]*", re.ASCII)
_PLAIN_VALUE = re.compile(r"""[^\s"'\[\]{}#=]+""")
_BOOLEAN = ("bool", "flag")

CACHED_LINES = 512
"""Lines whose request a parser remembers (a replayed session repeats its
lines: polling ``query-jobs``, the same ``query-status``)."""

CACHED_LINE_LENGTH = 1024
"""Longer lines are parsed each time, not kept."""

_UNSEEN = object()


class _Token(Record):
    """One word of a line: ``key`` and ``value`` are set for ``key=value``."""

    __slots__ = ("raw", "column", "key", "value")

    raw: str
    column: int
    key: str | None
    value: Word | None

    def __init__(
        self,
        raw: str,
        column: int,
        key: str | None = None,
        value: Word | None = None,
    ) -> None:
        self.raw = raw
        self.column = column
        self.key = key
        self.value = value

    @property
    def bare(self) -> str | None:
        """The word when it is a plain word (``)``, ``;``, a flag, a name)."""
        return self.raw if self.key is None else None


# -- words -------------------------------------------------------------------
def _tokens(line: str) -> list[_Token]:
    """The words of a line as :func:`~qmpshell.shorthand.words.scan` reads them."""
    scanned = scan(line)
    if scanned.problem is not None:
        raise ParseError(scanned.problem.message, scanned.problem.offset + 1, line)
    tokens = []
    for start, end in scanned.spans:
        raw = line[start:end]
        pair = split_key(raw)
        if pair is None:
            tokens.append(_Token(raw, start + 1))
            continue
        key, value_raw = pair
        text, quoted = unquote(value_raw)
        word = Word(text, value_raw, start + len(key) + 2, quoted)
        tokens.append(_Token(raw, start + 1, key, word))
    return tokens


# -- parsing -----------------------------------------------------------------
def parse_line(line: str, schema: Schema, *, allow_unknown: bool = False) -> Request | None:
    """The request a complete line asks for; None for a blank or comment line.

    ``allow_unknown`` sends commands and argument names the schema does not
    know (a live server may), their values taken as JSON when they are JSON."""
    parser = ShorthandParser(schema, allow_unknown=allow_unknown)
    request = None
    for part in line.split("\n"):
        got = parser.feed(part)
        if got is not None:
            if request is not None:
                raise ParseError("one request per line", 1, line)
            request = got
    if parser.in_transaction:
        raise ParseError("transaction( is not closed: expected ')'", len(line) + 1, line)
    return request


class ShorthandParser:
    """Parses lines one at a time, collecting multi-line ``transaction(`` blocks."""

    def __init__(self, schema: Schema, *, allow_unknown: bool = False) -> None:
        self._schema = schema
        self._allow_unknown = allow_unknown
        self._actions: list[dict[str, Any]] | None = None
        self._failed = 0
        self._parsed: dict[str, Request | None] = {}
        """Line -> its request, for lines outside a transaction: parsing is
        pure (the same text and schema give the same request), so a line seen
        before is not parsed again.  Emptied when the schema changes."""

    @property
    def in_transaction(self) -> bool:
        """Inside ``transaction(``: lines are actions until ``)``."""
        return self._actions is not None

    def reset(self) -> None:
        """Abandon a pending transaction."""
        self._actions = None
        self._failed = 0

    def use_schema(self, schema: Schema, *, allow_unknown: bool) -> None:
        """Type the lines that follow by ``schema`` (a server's schema arrived,
        or another server was connected); a pending transaction stays open."""
        self._schema = schema
        self._allow_unknown = allow_unknown
        self._parsed.clear()

    def feed(self, line: str) -> Request | None:
        """The request ``line`` completes, or None when there is nothing to send yet."""
        alone = self._actions is None
        if alone:
            known = self._parsed.get(line, _UNSEEN)
            if known is not _UNSEEN:
                return _fresh(known)  # type: ignore[no-any-return]
        try:
            request = self._feed(line)
        except ParseError as err:
            err.line = err.line or line
            raise
        except (RecursionError, MemoryError):
            raise ParseError("line too large or too deeply nested", 0, line) from None
        if alone and self._actions is None:  # not a part of a multi-line transaction
            self._remember(line, request)
        return request

    def peek(self, line: str) -> Request | None:
        """The request ``line`` would give on its own, without feeding it:
        None when it does not parse, is blank, or is (part of) a multi-line
        transaction; nothing changes but what the parser remembers."""
        if self._actions is not None:
            return None
        try:
            return self.feed(line)
        except ParseError:
            return None
        finally:
            if self._actions is not None:  # it opened a transaction: not one request
                self.reset()

    def _remember(self, line: str, request: Request | None) -> None:
        parsed = self._parsed
        if len(line) <= CACHED_LINE_LENGTH and len(parsed) < CACHED_LINES:
            parsed[line] = _fresh(request)

    def _feed(self, line: str) -> Request | None:
        tokens = _tokens(line)
        if not tokens:
            return None
        if self._actions is not None:
            return self._transaction_line(tokens)
        first = tokens[0]
        if first.raw.startswith("{"):
            return _json_request(tokens)
        opens = 1 if first.bare == "transaction(" else 0
        if first.bare == "transaction" and len(tokens) > 1 and tokens[1].bare == "(":
            opens = 2
        if opens:
            self._actions = []
            return self._transaction_line(tokens[opens:])
        if first.bare in (")", ";"):
            raise ParseError(f"'{first.raw}' outside a transaction( ... )", first.column)
        return self._command(tokens)

    def _command(self, tokens: list[_Token]) -> Request:
        first = tokens[0]
        name = _name(first, "a command name")
        command = self._schema.command(name)
        if command is None and name in self._schema.unavailable:
            raise ParseError(f"'{name}': {self._schema.unavailable[name]}", first.column)
        if command is None and not self._allow_unknown:
            raise ParseError(_unknown("command", name, self._schema.command_names()),
                             first.column)
        info = self._schema.arguments(name)
        typer = Typer(self._schema, name, lenient=self._allow_unknown)
        arguments = self._arguments(tokens, info, typer)
        return {"execute": name, "arguments": arguments} if arguments else {"execute": name}

    def _arguments(self, tokens: list[_Token], info: TypeInfo, typer: Typer) -> dict[str, Any]:
        """Type the words after a command or action name."""
        tree = Tree(tokens[0].column)
        for token in tokens[1:]:
            if token.value is None or token.key is None:
                name = self._flag(token, info, typer)
                _insert(tree, [name], Literal(True, token.column), token.column, typer)
                continue
            parts = token.key.split(".")
            if "" in parts:
                raise typer.fail("", f"bad argument name '{token.key}'", token.column)
            _insert(tree, parts, token.value, token.column, typer)
        return typer.members(tree.items, info, "", tree.column, tree.columns)

    def _flag(self, token: _Token, info: TypeInfo, typer: Typer) -> str:
        """The boolean argument a bare word names: ``force``, ``-f``, ``--force``."""
        word = token.raw
        name = word.lstrip("-")
        members = self._schema.members_for(info.name)
        flags = [m.name for m in members if self._is_boolean(m)]
        if word.startswith("-") and len(name) == 1:
            initial = [f for f in flags if f.startswith(name)]
            if len(initial) == 1:
                return initial[0]
        if name in flags:
            return name
        known = {m.name: m for m in members}
        if name in known:
            kind = self._schema.describe(known[name].type)
            raise typer.fail(name, f"expected {name}=VALUE ({kind})", token.column)
        raise typer.fail("", f"expected key=value, got '{word}'", token.column)

    def _is_boolean(self, member: Member) -> bool:
        return self._schema.resolve(member.type).builtin in _BOOLEAN

    # -- transactions -------------------------------------------------------
    def _transaction_line(self, tokens: list[_Token]) -> Request | None:
        """One line inside ``transaction(``: actions, perhaps the closing ``)``.

        A failing line stays inside the transaction (so that its other lines
        are not run on their own) and the ``)`` then refuses to send it."""
        closing = bool(tokens) and tokens[-1].bare == ")"
        body = tokens[:-1] if closing else tokens
        actions = self._actions if self._actions is not None else []
        try:
            for group in _split_actions(body):
                actions.append(self._action(group))
        except ParseError:
            self._failed += 1
            if closing or any(t.bare == ")" for t in body):
                self.reset()
            raise
        return self._close(tokens[-1].column) if closing else None

    def _close(self, column: int) -> Request:
        actions, failed = self._actions or [], self._failed
        self.reset()
        if failed:
            raise ParseError(f"transaction not sent: {failed} action line(s) had errors",
                             column)
        return {"execute": "transaction", "arguments": {"actions": actions}}

    def _action(self, tokens: list[_Token]) -> dict[str, Any]:
        first = tokens[0]
        if first.raw.startswith("{"):
            raise ParseError("a JSON request inside transaction( ... ); expected an action",
                             first.column)
        name = _name(first, "an action name")
        info = action_type(self._schema, name)
        if info is None:
            if not self._allow_unknown:
                raise ParseError(_unknown("transaction action", name,
                                          action_names(self._schema)), first.column)
            info = self._schema.types["options"]
        typer = Typer(self._schema, name, lenient=self._allow_unknown)
        return {"type": name, "data": self._arguments(tokens, info, typer)}


def _fresh(value: Any) -> Any:
    """A copy of a parsed request that its user may change: dicts and lists
    copied to the bottom, the rest (strings, numbers) shared."""
    kind = type(value)
    if kind is dict:
        return {key: _fresh(item) for key, item in value.items()}
    if kind is list:
        return [_fresh(item) for item in value]
    return value


def _split_actions(tokens: list[_Token]) -> list[list[_Token]]:
    """The actions of a line, split at ';' words; ')' may only end the line."""
    groups: list[list[_Token]] = [[]]
    for i, token in enumerate(tokens):
        if token.bare == ")":
            column = tokens[i + 1].column if i + 1 < len(tokens) else token.column
            raise ParseError("unexpected text after ')'", column)
        if token.bare == ";":
            groups.append([])
        elif token.bare in ("transaction(", "transaction") and not groups[-1]:
            raise ParseError("transaction( cannot be nested", token.column)
        else:
            groups[-1].append(token)
    return [g for g in groups if g]


def _insert(tree: Tree, parts: list[str], node: Word | Literal, column: int,
            typer: Typer) -> None:
    """Put a value at a dotted path, refusing a path given twice."""
    current = tree
    for depth, part in enumerate(parts[:-1]):
        child = current.items.get(part)
        if child is None:
            child = current.items[part] = Tree(column)
            current.columns[part] = column
        elif not isinstance(child, Tree):
            raise typer.fail("", f"duplicate argument '{'.'.join(parts[:depth + 1])}'", column)
        current = child
    if parts[-1] in current.items:
        raise typer.fail("", f"duplicate argument '{'.'.join(parts)}'", column)
    current.items[parts[-1]] = node
    current.columns[parts[-1]] = column


def _name(token: _Token, what: str) -> str:
    if token.key is not None or not _NAME.fullmatch(token.raw):
        raise ParseError(f"expected {what}, got '{token.raw}'", token.column)
    return token.raw


def _unknown(what: str, name: str, candidates: list[str]) -> str:
    hints = suggest(name, candidates, 1)
    hint = f" (did you mean '{hints[0]}'?)" if hints else ""
    return f"unknown {what} '{name}'{hint}"


def _json_request(tokens: list[_Token]) -> Request:
    """A raw JSON request, passed through as it is."""
    first = tokens[0]
    if len(tokens) > 1:
        raise ParseError("unexpected text after the JSON request", tokens[1].column)
    try:
        request = jsonlimit.loads(first.raw)
    except json.JSONDecodeError as err:
        raise ParseError(f"invalid JSON: {err.msg}", first.column + err.pos) from None
    except jsonlimit.TooDeep as err:
        raise ParseError(f"invalid JSON: {err}", first.column) from None
    except (ValueError, RecursionError):
        raise ParseError("invalid JSON: too large or too deeply nested", first.column) from None
    if not isinstance(request, dict) or not (
        isinstance(request.get("execute"), str) or isinstance(request.get("exec-oob"), str)
    ):
        raise ParseError('a JSON request must be an object with "execute"', first.column)
    return request


# -- transaction actions in the schema ----------------------------------------
def _action_union(schema: Schema) -> TypeInfo | None:
    """The live schema's TransactionAction union, when the schema has one."""
    actions = schema.arguments("transaction").member("actions")
    if schema.command("transaction") is None or actions is None:
        return None
    array = schema.resolve(actions.type)
    if array.kind != "array":
        return None
    union = schema.resolve(array.element)
    return union if union.tag == "type" else None


def action_type(schema: Schema, name: str) -> TypeInfo | None:
    """The type of a transaction action's ``data``: the live schema's branch
    for it, else the arguments of the command of the same name."""
    union = _action_union(schema)
    if union is not None:
        branch = union.variant_type(name)
        data = schema.resolve(branch).member("data") if branch else None
        return schema.resolve(data.type) if data else None
    command = schema.command(name)
    return schema.arguments(command) if command else None


def action_names(schema: Schema) -> list[str]:
    """The actions a transaction accepts (command names without a live union)."""
    union = _action_union(schema)
    if union is not None:
        return [value for value, _ in union.variants]
    return schema.command_names()


# -- requests back to lines -----------------------------------------------------
class _Unrenderable(Exception):
    """A request the shorthand cannot say; it is written as JSON instead."""


def format_request(request: Request, schema: Schema | None = None) -> str:
    """The shorthand line for a request, so that parsing it gives the request
    back (empty ``arguments`` aside); JSON when the shorthand cannot say it."""
    try:
        return _Renderer(schema).request(request)
    except _Unrenderable:
        return _json_text(request)
    except (ValueError, TypeError, RecursionError):
        return json.dumps(request, default=str)


class _Renderer:
    """Writes values so that the parser, typing them by the same schema, reads
    back what was written: strings quoted wherever they would read as JSON."""

    def __init__(self, schema: Schema | None) -> None:
        self.schema = schema

    def request(self, request: Request) -> str:
        if not isinstance(request, dict) or set(request) - {"execute", "arguments"}:
            raise _Unrenderable
        name, args = request.get("execute"), request.get("arguments", {})
        if not isinstance(name, str) or not _NAME.fullmatch(name) or not isinstance(args, dict):
            raise _Unrenderable
        if name == "transaction" and set(args) == {"actions"}:
            line = self.transaction(args["actions"])
            if line is not None:
                return line
        info = None
        if self.schema is not None:
            if self.schema.command(name) is None:
                raise _Unrenderable  # the same schema would refuse the line
            info = self.schema.arguments(name)
        return " ".join([name, *self.pairs("", args, info, top=True)])

    def transaction(self, actions: object) -> str | None:
        if not isinstance(actions, list):
            return None
        lines = []
        for action in actions:
            if not (isinstance(action, dict) and set(action) == {"type", "data"}
                    and isinstance(action["type"], str) and _NAME.fullmatch(action["type"])
                    and isinstance(action["data"], dict)):
                return None
            info = action_type(self.schema, action["type"]) if self.schema else None
            if self.schema is not None and info is None:
                return None
            lines.append(" ".join([action["type"], *self.pairs("", action["data"], info, True)]))
        return "transaction( " + " ; ".join(lines) + (" )" if lines else ")")

    def pairs(self, prefix: str, obj: dict[str, Any], info: TypeInfo | None,
              top: bool = False) -> list[str]:
        """``key=value`` words for an object's members (dotted below ``prefix``)."""
        members = self.members(info, obj)
        words = []
        for key, value in obj.items():
            if not isinstance(key, str) or not _PLAIN_KEY.fullmatch(key):
                raise _Unrenderable
            member = members.get(key)
            words.extend(self.pair(prefix + key, value, member, top))
        return words

    def pair(self, key: str, value: Any, member: Member | None, top: bool) -> list[str]:
        info = self.schema.resolve(member.type) if self.schema and member else None
        if top and value is True and info is not None and info.builtin == "flag":
            return [key]
        if isinstance(value, dict) and value and all(
            isinstance(k, str) and _PLAIN_KEY.fullmatch(k) for k in value
        ):
            target = self.dotted_target(info)
            if target is None or isinstance(target, TypeInfo):
                return self.pairs(key + ".", value, target)
        return [f"{key}={self.value(value, info)}"]

    def dotted_target(self, info: TypeInfo | None) -> TypeInfo | None | bool:
        """The object type dotted keys would be typed as (as the parser picks
        it); None when untyped, False when the value must be JSON instead."""
        if info is None or info.builtin == "any":
            return None
        if info.kind == "object":
            return info
        if info.kind != "alternate" or self.schema is None:
            return False
        alternatives = [self.schema.resolve(a) for a in info.alternatives]
        for alt in alternatives:
            if alt.kind in ("object", "array"):
                return alt if alt.kind == "object" else False
        return None if any(a.builtin == "any" for a in alternatives) else False

    def members(self, info: TypeInfo | None, obj: dict[str, Any]) -> dict[str, Member]:
        if info is None or self.schema is None or info.kind != "object":
            return {}
        known = {m.name: m for m in info.members}
        current = info
        while current.tag and isinstance(obj.get(current.tag), str):
            branch = current.variant_type(obj[current.tag])
            if branch is None:
                break
            current = self.schema.resolve(branch)
            for m in current.members:
                known.setdefault(m.name, m)
        return known

    def value(self, value: Any, info: TypeInfo | None) -> str:
        if isinstance(value, str):
            return _string(value, info)
        if isinstance(value, bool):
            return "true" if value else "false"
        if value is None:
            return "null"
        if isinstance(value, int):
            return _size(value) if info is not None and info.builtin == "size" else str(value)
        if isinstance(value, float):
            if value != value or value in (float("inf"), float("-inf")):
                raise _Unrenderable
            return repr(value)
        if isinstance(value, (dict, list)):
            return _json_text(value)
        raise _Unrenderable


def _string(value: str, info: TypeInfo | None) -> str:
    """A string bare when it reads back as itself, else quoted."""
    plain = bool(_PLAIN_VALUE.fullmatch(value)) and value.isprintable()
    if plain and info is not None and (info.kind == "enum" or info.builtin in ("str", "file")):
        return value
    if plain and (info is None or info.kind != "alternate") and not bare_literal(value)[0]:
        return value
    return quote(value)


def _size(value: int) -> str:
    """A size in the largest binary unit that divides it (``1G``, ``4k``)."""
    for power, unit in ((6, "E"), (5, "P"), (4, "T"), (3, "G"), (2, "M"), (1, "k")):
        if value > 0 and value % 1024**power == 0:
            return f"{value // 1024**power}{unit}"
    return str(value)


_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r"}


def quote(text: str) -> str:
    """``text`` in double quotes, escaped so the line stays one printable line."""
    return '"' + "".join(_escape_char(ch) for ch in text) + '"'


def _escape_char(ch: str) -> str:
    if ch in _ESCAPES:
        return _ESCAPES[ch]
    if ch.isprintable():
        return ch
    code = ord(ch)
    if code < 0x10000:
        return f"\\u{code:04x}"
    code -= 0x10000
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


def _json_text(value: Any) -> str:
    """Compact JSON with non-printable characters escaped (one safe line)."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return re.sub(r"[^ -~]", lambda m: _escape_char(m.group()), text)
