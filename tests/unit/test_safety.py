"""The table of commands that need a yes, and the question asked."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qmpshell.runner.safety import (
    DESTRUCTIVE,
    HMP_DESTRUCTIVE,
    confirmation_prompt,
    is_yes,
    needs_confirmation,
)

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"


def known_command_names() -> set[str]:
    """Every command QEMU 7.2 has, plus the bundled (older) spec's."""
    reply = json.loads((FIXTURES / "qemu-7.2-query-commands.json").read_text())
    names = {c["name"] for c in reply["return"]}
    spec = (ROOT / "qmpshell" / "schema" / "data" / "qmp-commands.hx.blame.txt").read_text()
    for line in spec.splitlines():
        if ".name" in line and "=" in line:
            names.add(line.split("=", 1)[1].strip().strip('",'))
    return names


def transaction_action_types() -> set[str]:
    schema = json.loads((FIXTURES / "qemu-7.2-query-qmp-schema.json").read_text())
    action = next(e for e in schema["return"] if e.get("meta-type") == "object"
                  and e.get("tag") == "type"
                  and any(v["case"] == "blockdev-snapshot-sync" for v in e.get("variants", [])))
    return {v["case"] for v in action["variants"]}


def test_every_entry_is_a_real_command() -> None:
    known = known_command_names()
    stale = sorted(name for name in DESTRUCTIVE if name not in known)
    assert stale == [], f"not a QMP command in QEMU 7.2 or the bundled spec: {stale}"


def test_reasons_are_one_line_sentences_starting_with_this() -> None:
    for table in (DESTRUCTIVE, HMP_DESTRUCTIVE):
        for name, reason in table.items():
            assert reason.startswith("this "), name
            assert "\n" not in reason and not reason.endswith("."), name


@pytest.mark.parametrize("name", ["quit", "system_reset", "system_powerdown", "device_del",
                                  "blockdev-del", "migrate", "block-commit", "drive-mirror"])
def test_the_issue_list_is_covered(name: str) -> None:
    assert needs_confirmation({"execute": name}) is not None


@pytest.mark.parametrize("name", ["query-status", "stop", "cont", "block_resize",
                                  "migrate_cancel", "qmp_capabilities", "device_add"])
def test_harmless_commands_pass(name: str) -> None:
    assert needs_confirmation({"execute": name, "arguments": {}}) is None
    assert confirmation_prompt({"execute": name}) == ""


def test_quit_prompt_exact() -> None:
    assert needs_confirmation({"execute": "quit"}) == "quit: this stops QEMU and the VM with it"
    assert confirmation_prompt({"execute": "quit"}) == \
        "quit: this stops QEMU and the VM with it. Run it? [y/N] "


def test_out_of_band_execute_counts_too() -> None:
    assert needs_confirmation({"exec-oob": "quit"}) is not None


def test_transaction_with_a_destructive_action() -> None:
    request = {"execute": "transaction", "arguments": {"actions": [
        {"type": "blockdev-snapshot-sync",
         "data": {"device": "scratch", "snapshot-file": "/tmp/s.qcow2"}},
        {"type": "drive-backup",
         "data": {"device": "scratch", "target": "/tmp/b.qcow2", "sync": "full"}},
    ]}}
    assert needs_confirmation(request) == \
        "transaction: drive-backup: this overwrites the target image"
    assert confirmation_prompt(request) == \
        "transaction: drive-backup: this overwrites the target image. Run it? [y/N] "


def test_harmless_transaction_and_malformed_ones() -> None:
    harmless = {"execute": "transaction", "arguments": {"actions": [
        {"type": "blockdev-snapshot-sync", "data": {}},
        {"type": "block-dirty-bitmap-add", "data": {}}]}}
    assert needs_confirmation(harmless) is None
    for broken in ({"execute": "transaction"},
                   {"execute": "transaction", "arguments": {"actions": "quit"}},
                   {"execute": "transaction", "arguments": {"actions": ["quit", 3, {}]}},
                   {"execute": 3}, {}, {"arguments": {"x": 1}}):
        assert needs_confirmation(broken) is None


def test_destructive_transaction_actions_are_real_action_types() -> None:
    types = transaction_action_types()
    assert "drive-backup" in types
    in_table = {t for t in types if t in DESTRUCTIVE}
    assert in_table == {"drive-backup", "blockdev-backup", "block-dirty-bitmap-remove",
                        "block-dirty-bitmap-clear"}


def test_hmp_lines_are_checked_by_their_first_word() -> None:
    def hmp(line: str) -> dict[str, object]:
        return {"execute": "human-monitor-command", "arguments": {"command-line": line}}

    assert needs_confirmation(hmp("quit")) == "quit: this stops QEMU and the VM with it"
    assert needs_confirmation(hmp("  q")) == "q: this stops QEMU and the VM with it"
    assert needs_confirmation(hmp("drive_del scratch")) == \
        "drive_del: this removes the drive from the running guest"
    assert needs_confirmation(hmp("info block")) is None
    assert needs_confirmation(hmp("")) is None
    assert needs_confirmation({"execute": "human-monitor-command"}) is None


@pytest.mark.parametrize(("answer", "yes"), [
    ("y", True), ("Y", True), ("yes", True), (" YES \n", True),
    ("", False), ("n", False), ("no", False), ("yep", False), ("q", False)])
def test_only_an_explicit_yes_counts(answer: str, yes: bool) -> None:
    assert is_yes(answer) is yes
