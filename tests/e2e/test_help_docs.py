"""Help against a real QEMU 7.2: the server's types with QEMU's own words."""

from __future__ import annotations

from helpers.cli import messages, qmpshell, sock
from helpers.qapi_docs import UNDESCRIBED, undescribed
from helpers.qemu_process import QemuProcess

from qmpshell.schema.docs import load_docs
from qmpshell.schema.introspect import schema_from_qapi


def test_help_blockdev_mirror_connected(qemu: QemuProcess) -> None:
    run = qmpshell("-c", ".help blockdev-mirror", "-c", "blockdev-mirror ?", sock(qemu))
    assert run.returncode == 0, run.stderr
    entry = load_docs().command("blockdev-mirror")
    assert entry is not None
    first, second = run.stdout.split("blockdev-mirror - ")[1:]
    assert first == second
    assert first.startswith("Start mirroring a block device's writes to a new destination.")
    flat = " ".join(first.split())
    for name, text in entry.args.items():
        assert f" {name} " in f" {flat} " and " ".join(text.split()) in flat, name
    assert "Documentation from QEMU 7.2.0." in first


def test_real_qemu_commands_without_description(qemu: QemuProcess) -> None:
    run = qmpshell("--compact", "-c", "query-qmp-schema", sock(qemu))
    assert run.returncode == 0, run.stderr
    (reply,) = messages(run.stdout)
    schema = schema_from_qapi(reply)
    assert len(schema.commands) >= 216
    assert undescribed(schema, load_docs()) == set(UNDESCRIBED)
