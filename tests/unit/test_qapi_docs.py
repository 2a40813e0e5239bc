"""The bundled documentation table (QEMU 7.2's qapi/*.json doc comments):
it covers QEMU 7.2's commands, help shows its words next to the server's
types, it is read only when help is shown, and it matches its generator."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from helpers.qapi_docs import UNDESCRIBED, UNDOCUMENTED_ARGS, undescribed

from qmpshell.runner.help import bundled_docs, command_help, command_list
from qmpshell.schema.docs import DocsTable, load_docs
from qmpshell.schema.introspect import merge_schemas, schema_from_qapi
from qmpshell.schema.model import Schema
from qmpshell.schema.table import load_bundled_schema

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"



@pytest.fixture(scope="module")
def docs() -> DocsTable:
    return load_docs()


@pytest.fixture(scope="module")
def qemu72() -> Schema:
    live = schema_from_qapi(json.loads((FIXTURES / "qemu-7.2-query-qmp-schema.json").read_text()))
    return merge_schemas(live, load_bundled_schema())


def test_table_is_qemu_72(docs: DocsTable) -> None:
    assert docs.release == "7.2.0"
    assert len(docs.commands) >= 216 and len(docs.events) >= 52


def test_qemu72_commands_without_description_are_named(qemu72: Schema, docs: DocsTable) -> None:
    assert len(qemu72.commands) == 216
    assert undescribed(qemu72, docs) == set(UNDESCRIBED)
    for name in UNDESCRIBED:  # help still says something: what it returns
        assert docs.command(name).description().startswith("Returns: ")  # type: ignore[union-attr]


def test_qemu72_events_all_described(qemu72: Schema, docs: DocsTable) -> None:
    assert [e for e in qemu72.events if not (docs.event(e) and docs.event(e).doc)] == []  # type: ignore[union-attr]


def test_qemu72_arguments_without_text_are_named(qemu72: Schema, docs: DocsTable) -> None:
    missing: dict[str, set[str]] = {}
    for name, cmd in qemu72.commands.items():
        entry = docs.command(name)
        assert entry is not None, name
        lacking = {m.name for m in qemu72.members_for(cmd.args_type) if not entry.arg(m.name)}
        if lacking:
            missing[name] = lacking
    assert missing == UNDOCUMENTED_ARGS


def test_help_blockdev_mirror_has_every_argument_text(qemu72: Schema, docs: DocsTable) -> None:
    text = command_help(qemu72, "blockdev-mirror", docs)
    lines = text.splitlines()
    assert lines[0] == ("blockdev-mirror - Start mirroring a block device's writes to a "
                        "new destination.")
    entry = docs.command("blockdev-mirror")
    assert entry is not None
    flat = " ".join(text.split())
    for member in qemu72.members_for(qemu72.commands["blockdev-mirror"].args_type):
        assert " ".join(entry.arg(member.name).split()) in flat, member.name
    assert "sync  " in text and "one of: top, full, none" in text  # the server's type
    assert "Since QEMU 2.6. Documentation from QEMU 7.2.0." in lines
    assert "  blockdev-mirror device=ide-hd0 sync=full target=target0" in lines
    assert "not in the bundled table" not in text
    assert all(len(line) <= 80 for line in lines if "one of:" not in line)


def test_help_for_an_event(qemu72: Schema, docs: DocsTable) -> None:
    text = command_help(qemu72, "BLOCK_JOB_READY", docs)
    assert text.startswith("BLOCK_JOB_READY (event)\n\n  Emitted when a block job is ready")
    assert "Data:" in text and "current progress value" in text


def test_list_titles_from_the_docs(qemu72: Schema, docs: DocsTable) -> None:
    text = command_list(qemu72, docs)
    job = next(line for line in text.splitlines() if line.split()[:1] == ["job-complete"])
    assert "Manually trigger completion" in job


def test_without_docs_help_keeps_the_schema_words(qemu72: Schema) -> None:
    text = command_help(qemu72, "block_resize")
    assert "Documentation from QEMU" not in text
    assert "block_resize device=scratch size=1G" in text


def test_bundled_docs_is_the_table() -> None:
    found = bundled_docs()
    assert found is not None and found.command("blockdev-mirror") is not None


def test_not_read_at_start_up() -> None:
    code = ("import sys, qmpshell.cli.main, qmpshell.runner.pipeline, qmpshell.prompt.completion;"
            "print('qmpshell.schema.docs' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_table_matches_its_generator() -> None:
    """With a QEMU source tree at hand (.qemu-src or $QEMU_SRC; see
    tools/qapi_source.py), the table is exactly what the generator writes."""
    from tools.qapi_source import SourceMissing, source_dir

    try:
        source_dir()
    except SourceMissing as err:
        pytest.skip(str(err))
    run = subprocess.run([sys.executable, "-m", "tools.gen_qapi_docs", "--check"], cwd=ROOT,
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr


def test_table_records_its_source(docs: DocsTable) -> None:
    data = json.loads((ROOT / "qmpshell/schema/data/qapi-docs.json").read_text())
    assert data["source"] == "QEMU 7.2.0 qapi/*.json" and len(data["digest"]) == 16
    readme = (ROOT / "qmpshell/schema/data/README.md").read_text()
    assert "qapi-docs.json" in readme and "GPL" in readme


@pytest.mark.parametrize("name", ["qapi-docs.json", "qga-schema.json"])
def test_tables_are_as_the_generators_write_them(name: str) -> None:
    """Without the QEMU source the tables cannot be regenerated here, but a
    hand edit that is not in the generator's exact form still shows."""
    from tools.qapi_source import dump

    text = (ROOT / "qmpshell/schema/data" / name).read_text()
    data = json.loads(text)
    assert dump(data) == text
    assert data["qemu"] == "7.2.0" and len(data["digest"]) == 16
