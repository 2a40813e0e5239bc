"""A small hand-built schema with every kind of type the shorthand must type:
builtins, enums, a flat union, an alternate, arrays, nesting, an open object."""

from __future__ import annotations

from helpers.schemas import make_schema


def test_every_type_the_test_schema_names_exists() -> None:
    schema = make_schema()
    named = {m.type for t in schema.types.values() for m in t.members}
    named |= {c.args_type for c in schema.commands.values()}
    named |= {t for info in schema.types.values() for t in (*info.alternatives, info.element)
              if t}
    named |= {t for info in schema.types.values() for _, t in info.variants}
    assert named <= set(schema.types)
