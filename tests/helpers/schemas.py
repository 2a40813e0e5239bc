"""A small hand-made schema for shorthand tests."""

from __future__ import annotations

from qmpshell.schema.model import Command, Member, Schema, TypeInfo


def _command(schema: Schema, name: str, members: list[Member], *, open_: bool = False) -> None:
    info = TypeInfo(name=f"{name}.arguments", kind="object", members=tuple(members), open=open_)
    schema.types[info.name] = info
    schema.commands[name] = Command(name=name, args_type=info.name)


def _type(schema: Schema, info: TypeInfo) -> None:
    schema.types[info.name] = info


def make_schema() -> Schema:
    s = Schema(source="test")
    _command(s, "block_resize", [Member("device", "str", True), Member("node-name", "str", True),
                                 Member("size", "size")])
    _command(s, "set_password", [Member("protocol", "str"), Member("password", "str")])
    _command(s, "cpu", [Member("index", "int")])
    _command(s, "sleep", [Member("seconds", "number")])
    _command(s, "enable", [Member("state", "bool")])
    _command(s, "eject", [Member("force", "flag", True), Member("device", "str")])
    _command(s, "migrate", [Member("detach", "flag", True), Member("blk", "flag", True),
                            Member("uri", "str")])
    _command(s, "qom-set", [Member("path", "str"), Member("property", "str"),
                            Member("value", "any")])
    _command(s, "query-status", [])
    _command(s, "human-monitor-command", [Member("command-line", "str")])
    _command(s, "device_add", [Member("driver", "str"), Member("id", "str", True)], open_=True)
    _command(s, "object-add", [Member("qom-type", "str"), Member("id", "str"),
                               Member("props", "any", True)])
    _command(s, "transaction", [Member("actions", "any")])
    _type(s, TypeInfo("Mode", "enum", values=("existing", "absolute-paths")))
    _command(s, "snapshot", [Member("device", "str"), Member("snapshot-file", "file"),
                             Member("mode", "Mode", True)])
    _type(s, TypeInfo("Driver", "enum", values=("file", "qcow2", "null-co")))
    _type(s, TypeInfo("Blockdev", "object", tag="driver",
                      members=(Member("driver", "Driver"), Member("node-name", "str", True),
                               Member("read-only", "bool", True)),
                      variants=(("file", "BlockdevFile"), ("qcow2", "BlockdevQcow2"))))
    _type(s, TypeInfo("BlockdevFile", "object", members=(
        Member("filename", "file"), Member("size-hint", "size", True))))
    _type(s, TypeInfo("BlockdevQcow2", "object", members=(
        Member("file", "BlockdevRef"), Member("cache-size", "int", True))))
    _type(s, TypeInfo("BlockdevRef", "alternate", alternatives=("Blockdev", "str")))
    s.commands["blockdev-add"] = Command(name="blockdev-add", args_type="Blockdev")
    _type(s, TypeInfo("StrOrNull", "alternate", alternatives=("str", "null")))
    _type(s, TypeInfo("IntOrStr", "alternate", alternatives=("int", "str")))
    _type(s, TypeInfo("[str]", "array", element="str"))
    _type(s, TypeInfo("[int]", "array", element="int"))
    _type(s, TypeInfo("[Blockdev]", "array", element="Blockdev"))
    _command(s, "configure", [Member("creds", "StrOrNull", True), Member("limit", "IntOrStr", True),
                              Member("names", "[str]", True), Member("numbers", "[int]", True),
                              Member("nodes", "[Blockdev]", True)])
    return s
