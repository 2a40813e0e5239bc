"""The toolbar: signature of the command being typed, what is missing or
wrong, over hand-built, bundled and QEMU 7.2 schemas."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qmpshell.prompt.toolbar import IDLE, problems, short_type, toolbar_fragments
from qmpshell.schema.model import Command, Member, Schema, TypeInfo

FIXTURES = Path(__file__).parents[1] / "fixtures"


def schema() -> Schema:
    return Schema(commands={
        "block_resize": Command("block_resize", "br"),
        "query-status": Command("query-status", "empty"),
    }, types={"br": TypeInfo("br", "object", members=(
        Member("device", "str", optional=True), Member("node-name", "str", optional=True),
        Member("size", "size")))})


def text_of(line: str, s: Schema, **kw: object) -> str:
    return "".join(t for _, t in toolbar_fragments(line, s, **kw))  # type: ignore[arg-type]


def test_signature_as_documented() -> None:
    assert text_of("block_resize", schema()).startswith(
        "block_resize  device:string?  node-name:string?  size:size")


def test_missing_required_is_flagged_until_given() -> None:
    s = schema()
    assert text_of("block_resize device=scratch", s).endswith("missing: size")
    assert "missing" not in text_of("block_resize device=scratch size=1G", s)


def test_current_and_given_arguments_are_styled() -> None:
    frags = toolbar_fragments("block_resize device=x si", schema())
    styles = {t: st for st, t in frags}
    assert styles["device:string?"] == "class:toolbar.given"
    assert styles["size:size"] == "class:toolbar.current"


def test_unknown_command_and_argument() -> None:
    s = schema()
    frags = toolbar_fragments("block_resise", s)
    assert frags == [("class:toolbar.error",
                      "unknown command block_resise (did you mean block_resize?)")]
    assert "unknown argument: sise (did you mean size?)" in text_of("block_resize sise=1", s)


def test_idle_and_dot_commands() -> None:
    assert text_of("", schema()) == IDLE
    assert text_of(".wait", schema()).startswith(".wait  wait for an event")
    assert "unknown shell command .wiat" in text_of(".wiat", schema())


def test_line_check_reports_parser_errors() -> None:
    s = schema()
    got = text_of("block_resize size=1G", s, check=lambda line: "column 19: bad size")
    assert got.endswith("column 19: bad size")
    assert text_of("block_resize size=1G", s, check=lambda line: None).endswith("size:size")


@pytest.fixture(scope="module")
def qemu72() -> Schema:
    from qmpshell.schema.introspect import schema_from_qapi
    return schema_from_qapi(json.loads(
        (FIXTURES / "qemu-7.2-query-qmp-schema.json").read_text()))


def test_qemu72_union_branch_and_nested(qemu72: Schema) -> None:
    assert problems(qemu72, qemu72.arguments("blockdev-add").name,
                    {"driver": "qcow2"}) == ["missing: file"]
    line = "blockdev-add driver=qcow2 node-name=d file.driver=file file."
    assert text_of(line, qemu72).startswith("file.  driver:enum  ")
    assert text_of(line, qemu72).endswith("missing: file.filename")
    assert "lazy-refcounts:boolean?" in text_of("blockdev-add driver=qcow2 ", qemu72)


def test_qemu72_transaction_action(qemu72: Schema) -> None:
    got = text_of("blockdev-snapshot-sync device=x", qemu72, transaction=True)
    assert got.startswith("blockdev-snapshot-sync  device:string?")
    assert got.endswith("missing: snapshot-file")


def test_short_types(qemu72: Schema) -> None:
    members = {m.name: m for m in qemu72.members_for(qemu72.arguments("blockdev-add").name,
                                                     {"driver": "qcow2"})}
    assert short_type(qemu72, members["detect-zeroes"].type) == "off|on|unmap"
    assert short_type(qemu72, members["file"].type) == "{...}|string"


def test_bundled_block_resize() -> None:
    table = pytest.importorskip("qmpshell.schema.table")
    got = text_of("block_resize ", table.load_bundled_schema())
    assert got.startswith("block_resize  device:string?  node-name:string?  size:size")


def test_the_toolbar_fits_80_columns_error_first(qemu72: Schema) -> None:
    from qmpshell.prompt.app import parse_problem
    from qmpshell.prompt.toolbar import fit_toolbar

    line = "blockdev-mirror job-id=j1 device=alpha target=beta sync=full speed=fast"
    message, column = parse_problem(line, qemu72, False)
    fragments = toolbar_fragments(line, qemu72, check=lambda text: message)
    fitted = fit_toolbar(fragments, 80)
    shown = "".join(text for _, text in fitted)
    assert len(shown) < 80
    assert shown.startswith("speed: expected an integer")
    assert fitted[0][0] == "class:toolbar.error"
    assert shown.endswith("\N{HORIZONTAL ELLIPSIS}") and "blockdev" in shown  # what fits
    assert line[column:] == "fast"
    missing = "".join(t for _, t in fit_toolbar(
        toolbar_fragments("blockdev-mirror job-id=j1 device=alpha", qemu72), 80))
    assert missing.startswith("missing: target, sync")


def test_the_offending_word_in_the_line() -> None:
    from qmpshell.prompt.app import mark_word

    fragments = [("class:a", "block_resize "), ("class:b", "size=1Q"), ("", " x")]
    assert mark_word(fragments, 18, "class:err") == [
        ("class:a", "block_resize "), ("class:b", "size="), ("class:err", "1Q"), ("", " x")]


def test_where_the_offending_word_starts(qemu72: Schema) -> None:
    from qmpshell.prompt.app import LineProblem

    problem = LineProblem(lambda: qemu72, lambda: False, lambda: False)
    assert problem.column("block_resize devce=x size=1G") == 13
    assert problem.column("block_resize device=x size=1Q") == 27
    assert problem.column("block_resize device=x si") == -1  # still being typed
    assert problem.column("block_resize device=x") == -1  # missing: nothing to point at
    assert problem.message("block_resize device=x size=1Q").startswith("size: expected a")


def test_a_line_for_a_vm_is_checked_past_its_target(qemu72: Schema) -> None:
    from qmpshell.prompt.app import LineProblem

    seen: list[str] = []

    def schema_for(target: str) -> Schema:
        seen.append(target)
        return qemu72

    problem = LineProblem(lambda: Schema(), lambda: False, lambda: False, schema_for)
    line = "@dst block_resize device=x size=1Q"
    assert problem.message(line) is not None and problem.message(line).startswith("size: ")
    assert problem.column(line) == 32 and seen[-1] == "dst"
    assert problem.message("@ds") is None and problem.column("@ds") == -1
    assert problem.message("@dst block_resize device=x size=1G") is None
