"""The spec reader against the bundled blame-annotated copy of qmp-commands.hx."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qmpshell.errors import SchemaError
from qmpshell.schema.spec import SpecCommand, SpecError, is_annotated, read_spec, source_lines

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "qmpshell" / "schema" / "data" / "qmp-commands.hx.blame.txt"
TABLE = ROOT / "qmpshell" / "schema" / "data" / "commands.json"

# args_type code -> schema type, as ../shared/spec/README.md gives them.
CODE_TYPES = {
    "s": "str",
    "B": "str",
    "F": "file",
    "i": "int",
    "l": "int",
    "M": "size",
    "o": "size",
    "T": "number",
    "b": "bool",
    "q": "any",
}


@pytest.fixture(scope="module")
def blame_text() -> str:
    return SPEC.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def commands(blame_text: str) -> dict[str, SpecCommand]:
    return {c.name: c for c in read_spec(blame_text)}


def to_plain(blame: str) -> str:
    """Strip the web viewer's blame annotations, giving back a plain .hx file.

    Written independently of the reader: walk the lines after the 4-line page
    header, drop commit-id-only and initials-only lines, and cut each line's
    number off using the number that must come next."""
    out: list[str] = []
    rows = blame.split("\n")[4:]
    for i, row in enumerate(rows):
        want = str(len(out) + 1)
        after = rows[i + 1] if i + 1 < len(rows) else ""
        if re.fullmatch(r"[0-9a-f]{8}", row) and re.fullmatch(r"[A-Z]+", after):
            continue
        if re.fullmatch(r"[A-Z]+", row):
            continue
        if re.match(r"[0-9a-f]{8} ", row) and row[9:].startswith(want):
            row = row[9:]
        assert row.startswith(want), f"blame row {i + 5} is not line {want}: {row!r}"
        out.append(row[len(want) :])
    return "\n".join(out) + "\n"


def table_entries(plain: str) -> dict[str, str]:
    """name -> args_type straight from the C table text, string literals joined."""
    found = re.findall(r'\.name\s*=\s*"([^"]+)",\s*\.args_type\s*=\s*((?:"[^"]*"\s*)+),', plain)
    return {name: "".join(re.findall(r'"([^"]*)"', literals)) for name, literals in found}


# -- commands and arguments -------------------------------------------------


def test_all_117_commands_with_the_table_args_type(blame_text: str) -> None:
    read = read_spec(blame_text)
    expected = table_entries(to_plain(blame_text))
    assert len(read) == 117
    assert len(expected) == 117
    assert {c.name: c.code for c in read} == expected


def test_arguments_spell_out_args_type_in_order(commands: dict[str, SpecCommand]) -> None:
    for c in commands.values():
        rebuilt = ",".join(
            f"{a.name}:{a.code}{'?' if a.optional and not a.code.startswith('-') else ''}"
            for a in c.arguments
        )
        assert rebuilt == c.code, c.name


def test_every_argument_type_follows_its_code(commands: dict[str, SpecCommand]) -> None:
    for c in commands.values():
        for a in c.arguments:
            if a.code.startswith("-"):
                assert (a.type, a.optional) == ("flag", True), (c.name, a.name)
            elif a.code == "O":
                assert a.type in ("options", "list"), (c.name, a.name)
            else:
                assert a.type == CODE_TYPES[a.code], (c.name, a.name)


@pytest.mark.parametrize(
    ("name", "arguments"),
    [
        ("quit", []),
        ("eject", [("force", "-f", True, "flag"), ("device", "B", False, "str")]),
        (
            "block_resize",
            [
                ("device", "s", True, "str"),
                ("node-name", "s", True, "str"),
                ("size", "o", False, "size"),
            ],
        ),
        (
            "change",
            [
                ("device", "B", False, "str"),
                ("target", "F", False, "file"),
                ("arg", "s", True, "str"),
            ],
        ),
        ("migrate_set_downtime", [("value", "T", False, "number")]),
        ("balloon", [("value", "M", False, "size")]),
        ("send-key", [("keys", "O", False, "list"), ("hold-time", "i", True, "int")]),
        ("device_add", [("device", "O", False, "options")]),
        ("netdev_add", [("netdev", "O", False, "options")]),
        ("migrate-set-capabilities", [("capabilities", "O", False, "list")]),
        (
            "migrate",
            [
                ("detach", "-d", True, "flag"),
                ("blk", "-b", True, "flag"),
                ("inc", "-i", True, "flag"),
                ("uri", "s", False, "str"),
            ],
        ),
        (
            "qom-set",
            [
                ("path", "s", False, "str"),
                ("property", "s", False, "str"),
                ("value", "q", False, "any"),
            ],
        ),
        (
            "blockdev-backup",
            [
                ("sync", "s", False, "str"),
                ("device", "B", False, "str"),
                ("target", "B", False, "str"),
                ("speed", "i", True, "int"),
                ("on-source-error", "s", True, "str"),
                ("on-target-error", "s", True, "str"),
            ],
        ),
        (
            "block-set-write-threshold",
            [("node-name", "s", False, "str"), ("write-threshold", "l", False, "int")],
        ),
        ("xen-save-devices-state", [("filename", "F", False, "file")]),
        ("query-blockstats", [("query-nodes", "b", True, "bool")]),
    ],
)
def test_sample_commands_exactly(
    commands: dict[str, SpecCommand], name: str, arguments: list[tuple[str, str, bool, str]]
) -> None:
    got = [(a.name, a.code, a.optional, a.type) for a in commands[name].arguments]
    assert got == arguments


def test_drive_backup_args_type_continues_on_the_next_line(
    commands: dict[str, SpecCommand],
) -> None:
    assert commands["drive-backup"].code == (
        "sync:s,device:B,target:s,speed:i?,mode:s?,format:s?,on-source-error:s?,on-target-error:s?"
    )
    assert commands["drive-backup"].arguments[-1].name == "on-target-error"


def test_argument_docs_and_documented_json_types(commands: dict[str, SpecCommand]) -> None:
    eject = commands["eject"]
    assert eject.arguments[0].doc == "force ejection (json-bool, optional)"
    assert eject.arguments[0].json_type == "json-bool"
    base = commands["block-commit"].argument("base")
    assert base is not None
    assert base.doc.startswith("The file name of the backing image to write data into.")
    assert base.json_type == "json-string"
    keys = commands["send-key"].argument("keys")
    assert keys is not None and keys.json_type == "json-array"
    assert "qcode enum" in keys.doc


def test_hints_name_live_values(commands: dict[str, SpecCommand]) -> None:
    def hint(command: str, arg: str) -> str:
        found = commands[command].argument(arg)
        assert found is not None
        return found.hint

    assert hint("eject", "device") == "block-device"
    assert hint("block_resize", "device") == "block-device"
    assert hint("block_resize", "node-name") == "node-name"
    assert hint("block_resize", "size") == ""
    assert hint("change", "target") == "file"
    assert hint("memsave", "filename") == "file"
    assert hint("ringbuf-read", "device") == "chardev"
    assert hint("chardev-remove", "id") == "chardev"
    assert hint("device_del", "id") == "device-id"
    assert hint("qom-get", "path") == "qom-path"
    assert hint("qom-list", "path") == "qom-path"
    assert hint("qom-set", "path") == "qom-path"
    assert hint("drive-mirror", "node-name") == ""  # names the new node
    assert hint("blockdev-snapshot-sync", "snapshot-node-name") == ""
    assert hint("chardev-add", "id") == ""


# -- documentation, sections, targets ---------------------------------------


def test_documentation_text_and_title(commands: dict[str, SpecCommand]) -> None:
    eject = commands["eject"]
    assert eject.title == "Eject a removable medium."
    assert eject.doc.startswith("Eject a removable medium.\n\nArguments:")
    assert eject.doc.endswith('Note: The "force" argument defaults to false.')
    # the heading "dump" (no underline) documents dump-guest-memory
    assert commands["dump-guest-memory"].title.startswith("Dump guest memory to file.")
    # "@query-named-block-nodes" is that command's heading
    assert commands["query-named-block-nodes"].title.startswith("Return a list of BlockDeviceInfo")
    hmp = commands["human-monitor-command"].doc
    assert "Query Commands" not in hmp and "HXCOMM" not in hmp
    undocumented = sorted(n for n, c in commands.items() if not c.doc)
    assert undocumented == [
        "block-job-cancel", "block-job-complete", "block-job-pause", "block-job-resume",
        "block-job-set-speed", "block-stream", "change-vnc-password", "device-list-properties",
        "nbd-server-add", "nbd-server-start", "nbd-server-stop", "qom-get", "qom-list",
        "qom-list-types", "qom-set", "query-block-jobs", "query-cpu-definitions",
        "query-machines", "query-target", "query-vnc-servers",
    ]  # fmt: skip


def test_regular_and_query_sections(commands: dict[str, SpecCommand]) -> None:
    groups = [c.group for c in commands.values()]
    assert groups.count("regular") == 65 and groups.count("query") == 52
    assert commands["human-monitor-command"].group == "regular"
    assert commands["query-version"].group == "query"
    assert commands["qom-list"].group == "query"
    assert commands["block-set-write-threshold"].group == "query"  # section order, not name


def test_target_conditions(commands: dict[str, SpecCommand]) -> None:
    conditional = {n: c.targets for n, c in commands.items() if c.targets}
    assert conditional == {
        "rtc-reset-reinjection": ("TARGET_I386",),
        "query-spice": ("CONFIG_SPICE",),
    }


# -- examples ---------------------------------------------------------------

INVALID_EXAMPLES = {
    # (command, spec line): what is wrong with the spec's JSON
    ("query-dump-guest-memory-capability", 871): "closing brace missing",
    ("query-block", 2226): '"backing-filename-format:"qcow2" (misplaced quote)',
    ("query-blockstats", 2346): 'comma missing after "rd_operations":36772',
    ("query-cpus", 2459): 'comma missing after "pc":3227107138',
    ("query-spice", 2955): "[ ... more channels follow ... ] placeholder",
    ("query-balloon", 3336): "trailing comma",
    ("query-named-block-nodes", 3697): '"backing-filename-format:"qcow2" (misplaced quote)',
}


def test_all_108_request_examples_parse_as_json(commands: dict[str, SpecCommand]) -> None:
    requests = [(c.name, e) for c in commands.values() for e in c.requests()]
    assert len(requests) == 108
    for name, e in requests:
        assert e.valid, (name, e.line, e.text)
        assert isinstance(e.json, dict)
        assert e.json["execute"] == name, (name, e.line)
        assert set(e.json) <= {"execute", "arguments"}


def test_examples_that_are_not_json_are_kept_as_text(commands: dict[str, SpecCommand]) -> None:
    invalid = {(c.name, e.line): e for c in commands.values() for e in c.examples if not e.valid}
    assert set(invalid) == set(INVALID_EXAMPLES)
    for e in invalid.values():
        assert e.direction == "<-" and e.json is None
        assert e.text.startswith("{") and e.text.rstrip().endswith("}")
    balloon = invalid[("query-balloon", 3336)]
    assert balloon.text == '{\n"return":{\n"actual":1073741824,\n}\n}'


def test_json_running_over_blank_lines(commands: dict[str, SpecCommand]) -> None:
    _, reply = commands["query-pci"].examples
    assert reply.valid and reply.line == 2603
    assert isinstance(reply.json, dict)
    assert reply.json["return"][0]["devices"][0]["regions"] == []


def test_multi_line_example_with_its_line(commands: dict[str, SpecCommand]) -> None:
    first, reply, second, _ = commands["change"].examples
    assert (first.line, first.direction) == (132, "->")
    assert first.json == {
        "execute": "change",
        "arguments": {"device": "ide1-cd0", "target": "/srv/images/Fedora-12-x86_64-DVD.iso"},
    }
    assert (reply.line, reply.direction, reply.json) == (135, "<-", {"return": {}})
    assert second.line == 139
    assert isinstance(second.json, dict) and second.json["arguments"]["arg"] == "foobar1"


# -- examples and documentation against the table ---------------------------

JSON_FITS: dict[str, tuple[type, ...]] = {
    "str": (str,),
    "file": (str,),
    "int": (int,),
    "size": (int,),
    "number": (int, float),
    "bool": (bool,),
    "flag": (bool,),
    "list": (list,),
    "any": (object,),
}


def request_problems(c: SpecCommand, request: dict[str, object]) -> list[str]:
    """What the server's table would reject in a documented request."""
    args = request.get("arguments", {})
    assert isinstance(args, dict)
    problems = []
    for key, value in args.items():
        arg = c.argument(key)
        if arg is None or arg.type == "options":
            if not c.open:
                problems.append(f"unknown argument {key}")
            continue
        numeric = arg.type in ("int", "size", "number")
        if not isinstance(value, JSON_FITS[arg.type]) or (numeric and isinstance(value, bool)):
            problems.append(f"{key}={value!r} is not {arg.type} ({arg.code})")
    for arg in c.arguments:
        if not arg.optional and arg.type != "options" and arg.name not in args:
            problems.append(f"required {arg.name} missing")
    return problems


# Where the spec's examples disagree with its own table (the table is what the
# server checks).  Every other request example passes the check.
REQUEST_DISAGREEMENTS = {
    ("dump-guest-memory", 847): ["required paging missing"],
    ("trace-event-set-state", 3885): ["enable='true' is not bool (b)"],
}


def test_request_examples_against_the_table(commands: dict[str, SpecCommand]) -> None:
    problems = {}
    checked = 0
    for c in commands.values():
        for e in c.requests():
            assert isinstance(e.json, dict)
            checked += 1
            found = request_problems(c, e.json)
            if found:
                problems[(c.name, e.line)] = found
    assert checked == 108
    assert problems == REQUEST_DISAGREEMENTS


def test_the_check_catches_what_it_should(commands: dict[str, SpecCommand]) -> None:
    resize = commands["block_resize"]
    assert request_problems(resize, {"arguments": {"device": "d", "size": 1}}) == []
    assert request_problems(resize, {"arguments": {"device": "d"}}) == ["required size missing"]
    assert request_problems(resize, {"arguments": {"size": True}}) == ["size=True is not size (o)"]
    assert request_problems(resize, {"arguments": {"size": 1, "x": 1}}) == ["unknown argument x"]
    assert request_problems(commands["device_add"], {"arguments": {"driver": "e1000"}}) == []


# Argument names the Arguments: lists give differently from the table
# (device_add and netdev_add document the keys of their options object instead).
NAME_DISAGREEMENTS = {
    "dump-guest-memory": (["end"], ["length"]),
    "drive-mirror": (["buf-size"], ["buf_size"]),
    "migrate": (["detach"], []),
}


def test_documented_argument_names_against_the_table(commands: dict[str, SpecCommand]) -> None:
    differ = {}
    for c in commands.values():
        if not c.documented or c.open:
            continue
        table = {a.name for a in c.arguments}
        documented = {d.name for d in c.documented}
        if table != documented:
            differ[c.name] = (sorted(table - documented), sorted(documented - table))
    assert differ == NAME_DISAGREEMENTS
    assert [d.name for d in commands["device_add"].documented] == ["driver", "bus", "id"]
    assert [d.name for d in commands["netdev_add"].documented] == ["type", "id"]


# Arguments the documentation calls required (or optional) against the table.
OPTIONAL_DISAGREEMENTS = {
    # documented as required, optional in the table: one of device/node-name ...
    ("block_resize", "device"): (False, True),
    ("block_resize", "node-name"): (False, True),
    ("block_passwd", "device"): (False, True),
    ("block_passwd", "node-name"): (False, True),
    ("blockdev-snapshot-sync", "device"): (False, True),
    ("blockdev-snapshot-sync", "node-name"): (False, True),
    ("blockdev-snapshot-sync", "snapshot-node-name"): (False, True),
    # ... and plain omissions of "optional"
    ("drive-mirror", "speed"): (False, True),
    ("drive-mirror", "on-source-error"): (False, True),
    ("drive-mirror", "on-target-error"): (False, True),
    ("block_set_io_throttle", "bps_max"): (False, True),
    ("block_set_io_throttle", "bps_rd_max"): (False, True),
    ("block_set_io_throttle", "bps_wr_max"): (False, True),
    ("block_set_io_throttle", "iops_max"): (False, True),
    ("block_set_io_throttle", "iops_rd_max"): (False, True),
    ("block_set_io_throttle", "iops_wr_max"): (False, True),
    ("block_set_io_throttle", "iops_size"): (False, True),
    # documented optional, required in the table
    ("change-backing-file", "image-node-name"): (True, False),
}


def test_documented_optionality_against_the_table(commands: dict[str, SpecCommand]) -> None:
    differ = {}
    for c in commands.values():
        for d in c.documented:
            arg = c.argument(d.name)
            if arg is not None and arg.optional != d.optional:
                differ[(c.name, d.name)] = (d.optional, arg.optional)
    assert differ == OPTIONAL_DISAGREEMENTS


def test_documented_json_types_fit_the_table(commands: dict[str, SpecCommand]) -> None:
    documented = {
        "str": "json-string", "file": "json-string", "int": "json-int", "size": "json-int",
        "number": "json-number", "bool": "json-bool", "flag": "json-bool", "list": "json-array",
    }  # fmt: skip
    for c in commands.values():
        for a in c.arguments:
            if a.json_type and a.type != "any":
                assert documented[a.type] == a.json_type, (c.name, a.name)


# -- the two file forms -----------------------------------------------------


def test_annotations_and_glued_line_numbers(blame_text: str) -> None:
    lines = source_lines(blame_text)
    assert [ln.number for ln in lines] == list(range(1, 3981))
    assert lines[0].text == "HXCOMM QMP dispatch table and documentation"
    assert (lines[2].text, lines[2].file_line) == (
        "HXCOMM does not show up in the other formats.",
        9,
    )
    assert lines[129].text == "1. Change a removable medium"  # "1301. Change"
    assert lines[1921].text == "3. Query Commands"  # "19223. Query Commands"
    assert lines[-1].text == "EQMP"


def test_plain_copy_reads_the_same_as_the_blame_copy(blame_text: str) -> None:
    plain = to_plain(blame_text)
    assert plain.startswith("HXCOMM QMP dispatch table and documentation\n")
    assert len(plain.splitlines()) == 3980
    assert is_annotated(blame_text) and not is_annotated(plain)
    assert read_spec(plain) == read_spec(blame_text)


MINI_SPEC = """\
HXCOMM a plain file, with its indentation intact
SQMP
2. Regular Commands
===================
EQMP

#if defined(TARGET_S390X)
    {
        .name       = "frob",
        .args_type  = "target:B,level:i?,"
                      "quiet:-q",
        .mhandler.cmd_new = qmp_marshal_input_frob,
    },
#endif

SQMP
frob
----

Frobnicate a device.

Arguments:

- "target": the device (json-string)
- "level": how hard, in the range 1 to 9
           (json-int, optional)

Example:

-> { "execute": "frob",
     "arguments": { "target": "ide0-hd0",
                    "level": 3 } }
<- { "return": {} }

EQMP
"""


def test_plain_file_with_indentation() -> None:
    (frob,) = read_spec(MINI_SPEC)
    assert frob.name == "frob" and frob.targets == ("TARGET_S390X",)
    assert [(a.name, a.code, a.optional) for a in frob.arguments] == [
        ("target", "B", False),
        ("level", "i", True),
        ("quiet", "-q", True),
    ]
    level = frob.argument("level")
    assert level is not None
    assert level.doc == "how hard, in the range 1 to 9 (json-int, optional)"
    request, reply = frob.examples
    assert request.line == 30
    assert request.json == {"execute": "frob", "arguments": {"target": "ide0-hd0", "level": 3}}
    assert reply.json == {"return": {}}


# -- errors -----------------------------------------------------------------


def error_of(text: str) -> SpecError:
    with pytest.raises(SchemaError) as caught:
        read_spec(text)
    assert isinstance(caught.value, SpecError)
    return caught.value


def test_stray_text_in_the_blame_copy_names_its_line(blame_text: str) -> None:
    rows = blame_text.split("\n")
    rows.insert(6, "not a blame row")
    err = error_of("\n".join(rows))
    assert err.line == 7
    assert str(err) == "line 7: expected spec line 3, found 'not a blame row'"


def test_a_missing_line_in_the_blame_copy_is_an_error(blame_text: str) -> None:
    rows = blame_text.split("\n")
    assert rows[10].startswith("5SQMP")
    del rows[10]
    assert error_of("\n".join(rows)).line == 11


def test_header_without_commit_line_data(blame_text: str) -> None:
    rows = blame_text.split("\n")
    rows[3] = "something else"
    err = error_of("\n".join(rows))
    assert err.line == 4 and "header" in err.message


def test_bad_args_type_in_the_blame_copy_names_the_file_line(blame_text: str) -> None:
    rows = blame_text.split("\n")
    name_row = next(i for i, r in enumerate(rows) if '.name = "block_resize"' in r)
    bad = blame_text.replace('"device:s?,node-name:s?,size:o"', '"device:s?,node-name:s?,size:Z"')
    err = error_of(bad)
    assert (err.line, err.message) == (name_row + 1, "block_resize: unknown args_type code 'Z'")


def test_structure_errors_name_their_line() -> None:
    assert error_of(MINI_SPEC.replace('"quiet:-q"', '"quiet:Z"')).line == 9
    unclosed = error_of(MINI_SPEC.replace("#endif\n", ""))
    assert "never closed" in unclosed.message
    missing = error_of(MINI_SPEC[: MINI_SPEC.rindex("EQMP")])
    assert missing.message == "missing EQMP" and missing.line == 16  # its SQMP
    stray = error_of(MINI_SPEC.replace("#endif", "#endif\nint x;"))
    assert stray.line == 15 and "unexpected text" in stray.message
    assert "no command table entries" in error_of("HXCOMM nothing here\n").message


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 40), st.integers(0, 3), st.integers(0, 60)), max_size=4))
def test_damaged_specs_fail_only_with_spec_errors(edits: list[tuple[int, int, int]]) -> None:
    rows = MINI_SPEC.split("\n")
    for at, how, cut in edits:
        k = at % len(rows)
        if how == 0:
            del rows[k]
        elif how == 1:
            rows.insert(k, rows[cut % len(rows)])
        else:
            rows[k] = rows[k][:cut]
        if not rows:
            rows = [""]
    try:
        read_spec("\n".join(rows))
    except SpecError as err:
        assert 1 <= err.line <= len(rows) + 1
        assert str(err).startswith(f"line {err.line}: ")


# -- tools/gen_table.py ----------------------------------------------------------


def run_spec(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "tools" / "gen_table.py"), *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )


def test_check_passes_on_the_committed_table() -> None:
    done = run_spec("--check")
    assert (done.returncode, done.stderr) == (0, "")


def test_write_table_reproduces_the_committed_table(tmp_path: Path) -> None:
    out = tmp_path / "commands.json"
    done = run_spec("--write-table", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert out.read_bytes() == TABLE.read_bytes()


def test_check_fails_on_a_modified_table(tmp_path: Path) -> None:
    out = tmp_path / "commands.json"
    table = TABLE.read_text()
    changed = table.replace('"device:s?,node-name:s?,size:o"', '"device:s?,node-name:s?,size:i"')
    assert changed != table
    out.write_text(changed)
    done = run_spec("--check", "--out", str(out))
    assert done.returncode == 1
    assert "out of date" in done.stderr and "make table" in done.stderr


def test_check_follows_the_spec_text(tmp_path: Path) -> None:
    spec = tmp_path / SPEC.name  # the table records the spec's file name
    plain = to_plain(SPEC.read_text())
    spec.write_text(plain)
    assert run_spec("--check", "--spec", str(spec)).returncode == 0
    spec.write_text(plain.replace('"keys:O,hold-time:i?"', '"keys:O,hold-time:l?"'))
    done = run_spec("--check", "--spec", str(spec))
    assert done.returncode == 1 and "out of date" in done.stderr


def test_unreadable_spec_is_a_message_not_a_traceback(tmp_path: Path) -> None:
    spec = tmp_path / "bad.hx"
    spec.write_text(MINI_SPEC.replace("#endif\n", ""))
    done = run_spec("--check", "--spec", str(spec))
    assert done.returncode == 2
    assert done.stderr.startswith(f"{spec}: error: line ") and "Traceback" not in done.stderr
    missing = run_spec("--check", "--spec", str(tmp_path / "nope.hx"))
    assert missing.returncode == 2 and "No such file" in missing.stderr
