"""The schema model: what commands exist and what their arguments accept.

One model serves completion, validation, help and the lexer, whether it was
built from the bundled command table (the spec) or from a live server's
``query-qmp-schema``.  Types are referenced by name and resolved through the
schema, because live QAPI types are recursive (``BlockdevRef`` contains
``BlockdevOptions`` which contains ``BlockdevRef``...).

Builtin type names (shared by both sources):

=========  ============================================================
``str``     a string, whatever it looks like
``file``    a string naming a file (completes file paths)
``int``     an integer; size suffixes are accepted (``4k``, ``1G``)
``size``    a size in bytes; suffixes accepted
``number``  a number (seconds etc.), may be fractional
``bool``    a boolean
``flag``    a boolean that may be given bare (``force``)
``any``     any JSON value
``null``    JSON null
=========  ============================================================
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, MutableMapping

from qmpshell.records import Record

BUILTINS: dict[str, str] = {
    "str": "string",
    "file": "file name",
    "int": "integer",
    "size": "size",
    "number": "number",
    "bool": "boolean",
    "flag": "flag",
    "any": "any JSON",
    "null": "null",
}
"""Builtin type name -> the word a user reads in help and errors."""

#: Kinds a :class:`TypeInfo` can have.
KINDS = ("builtin", "enum", "object", "array", "alternate")


# The model's records are :class:`~qmpshell.records.Record` classes rather
# than dataclasses or named tuples, which compile code as each is defined.
class Featured(Record):
    """What the schema's ``features`` say of a command or a member."""

    __slots__ = ()

    features: tuple[str, ...]

    @property
    def deprecated(self) -> bool:
        """Whether the schema's ``features`` mark it deprecated."""
        return "deprecated" in self.features

    @property
    def unstable(self) -> bool:
        """Whether the schema's ``features`` mark it unstable (QEMU's ``x-`` names)."""
        return "unstable" in self.features


class Member(Featured):
    """A named argument of a command, or a member of an object type."""

    __slots__ = ("name", "type", "optional", "doc", "features", "hint")

    name: str
    type: str
    optional: bool
    doc: str
    features: tuple[str, ...]
    hint: str
    """What live values complete it: 'block-device', 'node-name', 'chardev',
    'device-id', 'qom-path', 'file', or '' for none."""

    def __init__(
        self,
        name: str,
        type: str,
        optional: bool = False,
        doc: str = "",
        features: tuple[str, ...] = (),
        hint: str = "",
    ) -> None:
        self.name = name
        self.type = type
        self.optional = optional
        self.doc = doc
        self.features = features
        self.hint = hint


class TypeInfo(Record):
    """A type, in the shape QAPI introspection uses (see qapi/introspect.json)."""

    __slots__ = (
        "name", "kind", "builtin", "values", "members", "open", "tag", "variants", "element",
        "alternatives", "features", "value_features"
    )

    name: str
    kind: str
    builtin: str
    """For kind 'builtin': one of :data:`BUILTINS`."""
    values: tuple[str, ...]
    """For kind 'enum': the allowed values."""
    members: tuple[Member, ...]
    """For kind 'object': the members (the common ones, for a union)."""
    open: bool
    """For kind 'object': unlisted keys are accepted (device_add options)."""
    tag: str
    """For a flat union: the discriminator member's name."""
    variants: tuple[tuple[str, str], ...]
    """For a flat union: (tag value, object type name) pairs."""
    element: str
    """For kind 'array': the element type's name."""
    alternatives: tuple[str, ...]
    """For kind 'alternate': the type names it may be."""
    features: tuple[str, ...]
    value_features: tuple[tuple[str, tuple[str, ...]], ...]
    """For kind 'enum': (value, features) for the values that have any
    ('deprecated', 'unstable'), as the server's schema says."""

    def __init__(
        self,
        name: str,
        kind: str,
        builtin: str = "",
        values: tuple[str, ...] = (),
        members: tuple[Member, ...] = (),
        open: bool = False,
        tag: str = "",
        variants: tuple[tuple[str, str], ...] = (),
        element: str = "",
        alternatives: tuple[str, ...] = (),
        features: tuple[str, ...] = (),
        value_features: tuple[tuple[str, tuple[str, ...]], ...] = (),
    ) -> None:
        self.name = name
        self.kind = kind
        self.builtin = builtin
        self.values = values
        self.members = members
        self.open = open
        self.tag = tag
        self.variants = variants
        self.element = element
        self.alternatives = alternatives
        self.features = features
        self.value_features = value_features

    def features_of(self, value: str) -> tuple[str, ...]:
        """The features of one enum value (empty for most)."""
        for name, features in self.value_features:
            if name == value:
                return features
        return ()

    def member(self, name: str) -> Member | None:
        for m in self.members:
            if m.name == name:
                return m
        return None

    def variant_type(self, tag_value: str) -> str | None:
        for value, type_name in self.variants:
            if value == tag_value:
                return type_name
        return None


class Example(Record):
    """One request/reply example from the spec documentation."""

    __slots__ = ("line", "direction", "json", "text", "valid")

    line: int
    direction: str
    """'->' a client request, '<-' a server reply."""
    json: object
    text: str
    """The raw text when it is not valid JSON (then ``json`` is None)."""
    valid: bool

    def __init__(
        self,
        line: int,
        direction: str,
        json: object = None,
        text: str = "",
        valid: bool = True,
    ) -> None:
        self.line = line
        self.direction = direction
        self.json = json
        self.text = text
        self.valid = valid


class Command(Featured):
    """A QMP command."""

    __slots__ = (
        "name", "args_type", "returns", "doc", "title", "group", "features", "targets", "examples",
        "code"
    )

    name: str
    args_type: str
    """Name of the object type holding the arguments (may be a union)."""
    returns: str
    doc: str
    title: str
    group: str
    """'regular' or 'query' (spec sections), 'live' for server-only ones."""
    features: tuple[str, ...]
    targets: tuple[str, ...]
    """Target conditions, e.g. ('TARGET_I386',), empty when unconditional."""
    examples: tuple[Example, ...]
    code: str
    """The spec's args_type string, e.g. 'device:s?,node-name:s?,size:o'."""

    def __init__(
        self,
        name: str,
        args_type: str,
        returns: str = "any",
        doc: str = "",
        title: str = "",
        group: str = "regular",
        features: tuple[str, ...] = (),
        targets: tuple[str, ...] = (),
        examples: tuple[Example, ...] = (),
        code: str = "",
    ) -> None:
        self.name = name
        self.args_type = args_type
        self.returns = returns
        self.doc = doc
        self.title = title
        self.group = group
        self.features = features
        self.targets = targets
        self.examples = examples
        self.code = code


class Event(Record):
    __slots__ = ("name", "args_type", "features")

    name: str
    args_type: str
    features: tuple[str, ...]

    def __init__(self, name: str, args_type: str = "", features: tuple[str, ...] = ()) -> None:
        self.name = name
        self.args_type = args_type
        self.features = features


class Schema:
    """Commands, events and types; every lookup the front end needs."""

    __slots__ = ("commands", "types", "events", "source", "complete", "unavailable")

    def __init__(self, commands: MutableMapping[str, Command] | None = None,
                 types: MutableMapping[str, TypeInfo] | None = None,
                 events: MutableMapping[str, Event] | None = None, source: str = "",
                 complete: bool = False, unavailable: dict[str, str] | None = None) -> None:
        self.commands: MutableMapping[str, Command] = {} if commands is None else commands
        self.types: MutableMapping[str, TypeInfo] = {} if types is None else types
        self.events: MutableMapping[str, Event] = {} if events is None else events
        self.source = source
        """Where it came from: 'bundled', 'live', a file name."""
        self.complete = complete
        """True when the command list is a server's own (introspected, or saved
        from one): a command it lacks does not exist, so the parser refuses it.
        The bundled spec is old, so with it unknown commands are let through."""
        self.unavailable: dict[str, str] = {} if unavailable is None else unavailable
        """Commands the server has but will not run, and why in its words (a
        guest agent's disabled commands): refused before sending."""
        for name in BUILTINS:
            self.types.setdefault(name, TypeInfo(name=name, kind="builtin", builtin=name))
        self.types.setdefault("options", TypeInfo(name="options", kind="object", open=True))
        self.types.setdefault("empty", TypeInfo(name="empty", kind="object"))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Schema):
            return NotImplemented
        return all(getattr(self, name) == getattr(other, name) for name in Schema.__slots__)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (f"Schema(source={self.source!r}, {len(self.commands)} commands, "
                f"{len(self.types)} types, {len(self.events)} events)")

    def replace(self, **changes: object) -> Schema:
        """A copy with some fields changed (the tables are shared, not copied)."""
        fields = {name: getattr(self, name) for name in Schema.__slots__}
        fields.update(changes)
        return Schema(**fields)

    # -- lookups ---------------------------------------------------------
    def command(self, name: str) -> Command | None:
        return self.commands.get(name)

    def command_names(self) -> list[str]:
        return sorted(self.commands)

    def resolve(self, type_name: str) -> TypeInfo:
        """The type called ``type_name``; unknown names behave as 'any'."""
        found = self.types.get(type_name)
        if found is None:
            return self.types["any"]
        return found

    def arguments(self, command: Command | str) -> TypeInfo:
        """The object type holding a command's arguments."""
        if isinstance(command, str):
            cmd = self.commands.get(command)
            if cmd is None:
                return self.types["options"]
            command = cmd
        return self.resolve(command.args_type)

    def members_for(
        self, type_name: str, given: Mapping[str, object] | None = None
    ) -> list[Member]:
        """All members of an object type, including those of the union branch
        selected by the tag value in ``given`` (when given)."""
        info = self.resolve(type_name)
        while info.kind == "alternate":
            objects = [self.resolve(a) for a in info.alternatives]
            objs = [o for o in objects if o.kind == "object"]
            if not objs:
                return []
            info = objs[0]
        members = list(info.members)
        if info.tag and given is not None:
            tag_value = given.get(info.tag)
            if isinstance(tag_value, str):
                branch = info.variant_type(tag_value)
                if branch is not None:
                    members.extend(self.members_for(branch, given))
        return members

    def describe(self, type_name: str) -> str:
        """A short, user-facing name for a type: 'string', 'size', 'list of
        string', 'one of: a, b, c', 'BlockdevOptions'..."""
        info = self.resolve(type_name)
        if info.kind == "builtin":
            return BUILTINS.get(info.builtin, info.builtin)
        if info.kind == "array":
            return f"list of {self.describe(info.element)}"
        if info.kind == "enum":
            shown = ", ".join(info.values[:8])
            more = ", ..." if len(info.values) > 8 else ""
            return f"one of: {shown}{more}"
        if info.kind == "alternate":
            return " or ".join(self.describe(a) for a in info.alternatives)
        if info.open and not info.members:
            return "options"
        return "object"

    def suggest_command(self, name: str, limit: int = 3) -> list[str]:
        return suggest(name, self.commands, limit)

    def iter_types(self) -> Iterator[TypeInfo]:
        return iter(self.types.values())


MARKED_FEATURES = ("deprecated", "unstable")
"""The features a user is told about: a deprecated thing will go away, an
unstable one may change without notice (QEMU's ``x-`` names)."""


def feature_marks(features: Iterable[str]) -> list[str]:
    """The features of :data:`MARKED_FEATURES` among ``features``, in that order."""
    given = set(features)
    return [f for f in MARKED_FEATURES if f in given]


def suggest(word: str, candidates: Iterable[str], limit: int = 3) -> list[str]:
    """Close matches for a mistyped word ('did you mean'), best first.

    Treats '-' and '_' alike, since QMP mixes both spellings."""
    import difflib  # only once something is mistyped: it costs start-up time

    pool = list(candidates)
    norm = {c.replace("_", "-"): c for c in pool}
    typed = word.replace("_", "-")
    hits = difflib.get_close_matches(typed, list(norm), n=limit, cutoff=0.6)
    # Two neighbouring keys typed in the wrong order is the commonest slip,
    # which difflib's ratio ranks below a dropped letter ('query-stauts'
    # would suggest query-stats before query-status).
    swapped = [c for c in norm if _one_swap(typed, c)]
    return [norm[h] for h in [*swapped, *(h for h in hits if h not in swapped)][:limit]]


def _one_swap(typed: str, name: str) -> bool:
    """``name`` is ``typed`` with two neighbouring characters swapped back."""
    if len(typed) != len(name) or typed == name:
        return False
    diff = [i for i, (a, b) in enumerate(zip(typed, name, strict=True)) if a != b]
    return (len(diff) == 2 and diff[1] == diff[0] + 1
            and typed[diff[0]] == name[diff[1]] and typed[diff[1]] == name[diff[0]])
