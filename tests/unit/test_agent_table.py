"""The bundled guest-agent table (QEMU 7.2's qga/qapi-schema.json): it loads
as a schema, types arguments, documents commands, is narrowed by what an
agent's guest-info reports, and matches its generator."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from qmpshell.runner.help import command_help
from qmpshell.schema.agent import AgentTable, load_agent_table, narrow

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def table() -> AgentTable:
    return load_agent_table()


def test_every_agent_command_typed_and_documented(table: AgentTable) -> None:
    schema = table.schema
    assert len(schema.commands) == 42 and schema.complete
    assert {"guest-ping", "guest-sync-delimited", "guest-info", "guest-exec"} <= set(
        schema.commands)
    for name in schema.commands:
        entry = table.docs.command(name)
        assert entry is not None and entry.description(), name
    (pid,) = schema.members_for(schema.commands["guest-exec-status"].args_type)
    assert (pid.name, schema.describe(pid.type), pid.optional) == ("pid", "integer", False)


def test_help_guest_info(table: AgentTable) -> None:
    text = command_help(table.schema, "guest-info", table.docs)
    assert text.startswith("guest-info - Get some information about the guest agent.")
    assert "Documentation from QEMU 7.2.0." in text


def test_narrowed_by_guest_info(table: AgentTable) -> None:
    info = {"version": "7.2.22", "supported_commands": [
        {"name": "guest-ping", "enabled": True, "success-response": True},
        {"name": "guest-exec", "enabled": False, "success-response": True},
        {"name": "guest-new-thing", "enabled": True, "success-response": True}]}
    schema = narrow(table.schema, info)
    refused = schema.unavailable
    assert set(schema.commands) == {"guest-ping", "guest-new-thing"}
    assert refused["guest-exec"] == (
        "Command guest-exec has been disabled in this guest agent")
    assert refused["guest-info"] == "the command guest-info is not supported by this agent"
    assert schema.source == "guest agent 7.2.22"
    assert schema.arguments("guest-new-thing").open


def test_table_matches_its_generator() -> None:
    from tools.qapi_source import SourceMissing, source_dir

    try:
        source_dir()
    except SourceMissing as err:
        pytest.skip(str(err))
    run = subprocess.run([sys.executable, "-m", "tools.gen_qga_table", "--check"], cwd=ROOT,
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr


def test_disabled_command_refused_by_parser_and_toolbar(table: AgentTable) -> None:
    from qmpshell.errors import ParseError
    from qmpshell.prompt.toolbar import toolbar_fragments
    from qmpshell.shorthand.parser import parse_line

    info = {"supported_commands": [
        {"name": "guest-exec-status", "enabled": True, "success-response": True},
        {"name": "guest-exec", "enabled": False, "success-response": True}]}
    schema = narrow(table.schema, info)
    assert parse_line("guest-exec-status pid=1", schema) == {
        "execute": "guest-exec-status", "arguments": {"pid": 1}}
    with pytest.raises(ParseError, match="'guest-exec': Command guest-exec has been disabled"):
        parse_line("guest-exec path=/bin/true", schema)
    shown = "".join(t for _, t in toolbar_fragments("guest-exec path=/bin/true", schema))
    assert shown == "Command guest-exec has been disabled in this guest agent"
