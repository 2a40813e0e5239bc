"""Dot-command lines read like any other line: a '#' comment is dropped."""

import pytest

from qmpshell.errors import ParseError
from qmpshell.schema.model import Schema
from qmpshell.shorthand.dotcommands import parse_dot


def test_a_comment_after_a_dot_command_is_dropped() -> None:
    assert parse_dot(".echo resized # the scratch disk").rest == "resized"
    assert parse_dot(".echo 'a # b'").rest == "'a # b'"
    assert parse_dot(".echo a#b").rest == "a#b"
    assert parse_dot(".sleep 0.1 # settle").rest == "0.1"


def test_an_unknown_dot_command_suggests_the_closest() -> None:
    with pytest.raises(ParseError, match=r"unknown dot-command \.wiat \(did you mean \.wait\?\)"):
        parse_dot(".wiat RESUME")


# -- the one registry: every part of the shell reads it -------------------------

def test_help_completion_toolbar_and_man_page_list_every_dot_command() -> None:
    from qmpshell.cli.options import build_parser
    from qmpshell.prompt.completion import static_candidates, suggest
    from qmpshell.prompt.toolbar import toolbar_fragments
    from qmpshell.runner.help import command_help, command_list
    from qmpshell.schema.model import Schema
    from qmpshell.shorthand.dotcommands import DOT_COMMANDS
    from tools.completions_gen import man_page

    schema = Schema()
    listing = command_list(schema)
    offered = [c.text for c in static_candidates(suggest(".", schema), schema)]
    page = man_page(build_parser())
    assert offered == [d.name for d in DOT_COMMANDS]
    for spec in DOT_COMMANDS:
        assert f"  {spec.name} " in listing
        assert command_help(schema, spec.name).startswith(f"{spec.name}: {spec.help[:10]}")
        toolbar = "".join(t for _, t in toolbar_fragments(spec.name, schema))
        assert toolbar.startswith(spec.name) and spec.help[:10] in toolbar
        assert f"\\fB\\&{spec.name}\\fR" in page


def test_arguments_complete_as_the_registry_says() -> None:
    from qmpshell.prompt.completion import suggest
    from qmpshell.schema.model import Schema

    schema = Schema()
    assert suggest(".connect /tm", schema).hint == "file"
    assert suggest(".record ~/s", schema).hint == "file"
    assert suggest(".schema save /x", schema).hint == "file"
    assert suggest(".schema s", schema).choices == ("save",)
    assert suggest(".pager o", schema).choices == ("on", "off")
    assert suggest(".wait S", schema).kind == "event"
    assert suggest(".help blo", schema).kind == "command"
    assert suggest(".quit x", schema).kind == "none"
    assert suggest(".echo x", schema).kind == "none"


def test_arguments_are_parsed_by_the_registry() -> None:
    assert parse_dot(".pager on").arguments() is True
    assert parse_dot(".pager").arguments() is None
    assert parse_dot('.connect "/tmp/q m.sock"').arguments() == "/tmp/q m.sock"
    assert parse_dot(".record '/tmp/a b.qmp'").arguments().path == "/tmp/a b.qmp"
    assert parse_dot(".sleep 0.5").arguments() == 0.5
    for line, message in [(".pager maybe", r"\.pager on\|off"), (".hmp", "needs a monitor"),
                          (".connect a b", "one ADDRESS"), (".sleep soon", "seconds")]:
        with pytest.raises(ParseError, match=message):
            parse_dot(line).arguments()


def test_prompt_only_commands_are_known_and_suggested() -> None:
    from qmpshell.shorthand.dotcommands import dot_command

    assert dot_command(".pager") is not None and not dot_command(".pager").in_scripts
    with pytest.raises(ParseError, match=r"did you mean \.connect\?"):
        parse_dot(".conect /tmp/x")
    with pytest.raises(ParseError, match=r"did you mean \.pager\?"):
        parse_dot(".pagr on")


@pytest.fixture(scope="module")
def qemu72() -> Schema:
    import json
    from pathlib import Path

    from qmpshell.schema.introspect import schema_from_qapi
    path = Path(__file__).parents[1] / "fixtures" / "qemu-7.2-query-qmp-schema.json"
    return schema_from_qapi(json.loads(path.read_text()))


def test_wait_refuses_an_event_the_server_does_not_have(qemu72: Schema) -> None:
    from qmpshell.shorthand.dotcommands import check_wait, parse_wait

    with pytest.raises(ParseError, match=r"did you mean 'BLOCK_JOB_READY'\?"):
        check_wait(parse_wait("BLOCK_JOB_REDY"), qemu72)
    with pytest.raises(ParseError, match="STOP carries no data"):
        check_wait(parse_wait("STOP devce=x"), qemu72)
    with pytest.raises(ParseError, match=r"did you mean 'device'\?"):
        check_wait(parse_wait("BLOCK_JOB_READY devce=x"), qemu72)
    assert check_wait(parse_wait("block_job_ready device=j1 timeout=5"), qemu72).event == \
        "block_job_ready"
    assert check_wait(parse_wait("ANYTHING"), None).event == "ANYTHING"


def test_an_event_received_earlier_says_when() -> None:
    from qmpshell.runner.pipeline import received_ago

    event = {"event": "STOP", "timestamp": {"seconds": 100, "microseconds": 500000}}
    assert received_ago(event, now=103.6) == "received 3 s ago"
    assert received_ago(event, now=100.7) == "received just before"
    assert received_ago({"event": "STOP"}) == "received earlier"


@pytest.mark.parametrize("line", [".use", ".use a b", ".disconnect", ".disconnect a b"])
def test_a_vm_command_without_one_name_says_its_own_usage(line: str) -> None:
    command = line.split()[0]
    with pytest.raises(ParseError) as raised:
        parse_dot(line).arguments()
    assert str(raised.value) == f"{command} takes one VM name: {command} NAME (.vms lists them)"


def test_suggestions_put_a_swap_of_two_neighbouring_keys_first() -> None:
    from qmpshell.schema.model import suggest

    names = ["query-stats", "query-status", "query-stats-schemas"]
    assert suggest("query-stauts", names)[:2] == ["query-status", "query-stats"]
    assert suggest("query_stauts", names)[0] == "query-status"  # '_' and '-' alike
    assert suggest("query-stat", names)[0] == "query-stats"  # no swap: difflib's order
    assert suggest("qeury-status", names, 1) == ["query-status"]
