"""The one table of secrets: every entry is reviewed against QEMU 7.2's schema
and tested in every place the shell writes lines or messages down (history,
--logfile, --record; -v and -n in tests/e2e/test_secret_sinks.py), with files
private whatever the umask, and masking linear in the line's length."""

from __future__ import annotations

import io
import json
import os
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers.secret_examples import HMP_EXAMPLES, QMP_EXAMPLES, SECRET, hmc, hmp_lines

from qmpshell.privatefiles import make_private_dirs, open_private_text
from qmpshell.prompt.history import MaskedFileHistory, append_entry
from qmpshell.runner.recorder import Recorder
from qmpshell.secrets import (
    MASK,
    SECRET_TABLE,
    Secret,
    is_secret_name,
    mask_hmp,
    mask_line,
    mask_request,
)
from qmpshell.wire.logfile import SENT, MessageLog

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def key(entry: Secret) -> tuple[str, str]:
    return entry.command, entry.argument


QMP_ENTRIES = [e for e in SECRET_TABLE if e.monitor == "qmp"]
HMP_ENTRIES = [e for e in SECRET_TABLE if e.monitor == "hmp"]
ALL_HMP_LINES = list(hmp_lines())


def test_every_entry_has_an_example_and_every_example_an_entry() -> None:
    assert {key(e) for e in QMP_ENTRIES} == set(QMP_EXAMPLES)
    assert {key(e) for e in HMP_ENTRIES} == set(HMP_EXAMPLES)


def qmp_schema() -> list[dict[str, Any]]:
    data = json.loads((FIXTURES / "qemu-7.2-query-qmp-schema.json").read_text())
    return data["return"] if isinstance(data, dict) else data


def test_the_table_names_commands_and_arguments_of_the_7_2_schema() -> None:
    """Entries for other QEMUs (older ones, the guest agent) say so."""
    entries = qmp_schema()
    by_name = {e["name"]: e for e in entries}
    members: dict[str, set[str]] = {}
    for e in entries:
        if e["meta-type"] == "command":
            names = members.setdefault(e["name"], set())
            pending = [e["arg-type"]]
            while pending:  # the argument object, its base and its variants
                t = by_name.get(pending.pop(), {})
                names.update(m["name"] for m in t.get("members", []))
                pending.extend(v["type"] for v in t.get("variants", []))
    for entry in QMP_ENTRIES:
        if "guest-agent" in entry.note:
            assert entry.command not in members
            continue
        if "before" in entry.note:  # gone from 7.2: the argument, or the whole command
            assert entry.argument.split(".")[0] not in members.get(entry.command, set())
            continue
        assert entry.command in members, entry
        assert entry.argument.split(".")[0] in members[entry.command], entry


def test_every_secret_looking_string_member_of_7_2_is_classified() -> None:
    """A member whose name looks like a secret is masked, or is known to
    hold something else (the id of a secret object is masked anyway)."""
    not_secret = {"auth": "an authentication scheme's name (vnc/spice info)",
                  "keyid": "the id of the secret object that decrypts another",
                  "passwordid": "the id of the secret object with the key's password",
                  "tls-authz": "the id of an authz object",
                  "tls-creds": "the id of a tls-creds object"}
    pattern = re.compile(r"pass|secret|key|token|cookie|cred|auth|psk", re.I)
    for entry in qmp_schema():
        for member in entry.get("members", []):
            name = member.get("name", "")
            if member.get("type") in ("str", "any") and pattern.search(name):
                assert is_secret_name(name) or name in not_secret, name


@pytest.mark.parametrize("entry", QMP_ENTRIES, ids=lambda e: f"{e.command}:{e.argument}")
def test_qmp_entry_masked_in_requests_and_lines(entry: Secret) -> None:
    line, request = QMP_EXAMPLES[key(entry)]
    assert SECRET not in json.dumps(mask_request(request))
    assert SECRET in json.dumps(request)  # the server still gets it
    assert SECRET not in mask_line(line)
    assert SECRET not in mask_line(json.dumps(request))
    assert SECRET not in mask_line(f"@vm1 {line}")


@pytest.mark.parametrize("line", ALL_HMP_LINES)
def test_hmp_entry_masked_in_every_form(line: str) -> None:
    masked = mask_hmp(line)
    assert SECRET not in masked and MASK in masked
    assert masked.split()[0] == line.split()[0]
    assert SECRET not in mask_line(f".hmp {line}")
    assert SECRET not in mask_line(line, hmp=True)
    assert SECRET not in json.dumps(mask_request(hmc(line)))
    assert SECRET not in mask_line(json.dumps(hmc(line)))
    quoted = line.replace('"', '\\"')
    assert SECRET not in mask_line(f'human-monitor-command command-line="{quoted}"')


def test_what_is_not_secret_is_left_alone() -> None:
    for line in ("block_resize device=scratch size=1G", "qom-set path=/m property=x value=7",
                 "object-add qom-type=iothread id=x data=keep",
                 "blockdev-add driver=raw node-name=n pass-discard-request=on"):
        assert mask_line(line) == line
    for line in ("info block", "change ide1-cd0 /tmp/a.iso", "qom-set /m x 7",
                 "object_add iothread,id=t,data=keep", "set_password"):
        assert mask_hmp(line) == line
        assert mask_line(f".hmp {line}") == f".hmp {line}"


# -- the sinks --------------------------------------------------------------------

def all_lines() -> list[str]:
    return ([line for line, _ in QMP_EXAMPLES.values()]
            + [f".hmp {line}" for line in ALL_HMP_LINES])


def all_requests() -> list[dict[str, Any]]:
    return [r for _, r in QMP_EXAMPLES.values()] + [hmc(line) for line in ALL_HMP_LINES]


def test_history_masks_every_entry(tmp_path: Path) -> None:
    history = MaskedFileHistory(tmp_path / "history")
    for line in all_lines():
        history.store_string(line)
    hmp_history = MaskedFileHistory(tmp_path / "hmp-history", hmp=True)
    for line in ALL_HMP_LINES:
        hmp_history.store_string(line)
    for name in ("history", "hmp-history"):
        text = (tmp_path / name).read_text()
        assert SECRET not in text and text.count(MASK) >= len(ALL_HMP_LINES)


def test_logfile_masks_every_entry() -> None:
    out = io.StringIO()
    log = MessageLog(out)
    for request in all_requests():
        log.write(SENT, request)
    assert SECRET not in out.getvalue()
    assert out.getvalue().count(MASK) == len(all_requests())


def test_recording_masks_every_entry(tmp_path: Path) -> None:
    path = tmp_path / "rec.qmp"
    with Recorder(path, qemu_version="7.2.0") as recorder:
        for request in all_requests():
            recorder.record_request(request)
        for line in ALL_HMP_LINES:
            recorder.record_dot(f".hmp {line}")
    text = path.read_text()
    assert SECRET not in text
    recorded = "\n".join(text.splitlines()[2:])  # the header names the mask too
    assert recorded.count(MASK) == len(all_requests()) + len(ALL_HMP_LINES)


# -- files are private --------------------------------------------------------------

@pytest.fixture
def umask_022() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def test_files_are_0600_in_0700_directories_under_umask_022(tmp_path: Path,
                                                             umask_022: None) -> None:
    from qmpshell.schema.cache import store
    from qmpshell.schema.model import Schema

    history = tmp_path / "state" / "qmpshell" / "history"
    MaskedFileHistory(history).store_string("query-status")
    log = MessageLog.open(str(tmp_path / "log.jsonl"))
    log.write(SENT, {"execute": "query-status"})
    log.close()
    Recorder(tmp_path / "rec.qmp", qemu_version=None).close()
    cache = tmp_path / "cache" / "qmpshell" / "schemas"
    assert store(cache, "key", Schema(), "digest")
    for directory in (tmp_path / "state", history.parent, tmp_path / "cache", cache):
        assert mode(directory) == 0o700, directory
    for file in (history, tmp_path / "log.jsonl", tmp_path / "rec.qmp", *cache.iterdir()):
        assert mode(file) == 0o600, file


def test_an_existing_file_keeps_its_mode(tmp_path: Path, umask_022: None) -> None:
    path = tmp_path / "shared.log"
    path.write_text("")
    path.chmod(0o640)
    open_private_text(path).close()
    assert mode(path) == 0o640
    make_private_dirs(tmp_path)  # an existing directory is left as it is
    assert mode(tmp_path) != 0


# -- the history file in trouble, and shared --------------------------------------

def test_a_history_file_that_is_a_directory_is_said_once(tmp_path: Path) -> None:
    (tmp_path / "history").mkdir()
    said: list[str] = []
    history = MaskedFileHistory(tmp_path / "history", on_error=said.append)
    assert list(history.load_history_strings()) == []
    history.store_string("query-status")
    history.store_string("query-name")
    assert len(said) == 1 and str(tmp_path / "history") in said[0]
    assert "Is a directory" in said[0]


def test_an_unwritable_history_file_is_said_once(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root writes anywhere")
    path = tmp_path / "history"
    path.write_text("")
    path.chmod(0o400)
    said: list[str] = []
    history = MaskedFileHistory(path, on_error=said.append)
    history.store_string("a")
    history.store_string("b")
    assert len(said) == 1 and "Permission denied" in said[0]


def test_a_full_disk_is_said_once(tmp_path: Path) -> None:
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full")
    said: list[str] = []
    history = MaskedFileHistory(tmp_path / "h", on_error=said.append)
    history.filename = "/dev/full"
    history.store_string("a")
    history.store_string("b")
    assert len(said) == 1 and "No space left" in said[0]


def test_big_entries_from_many_writers_are_never_merged(tmp_path: Path) -> None:
    path = tmp_path / "history"
    writers, entries, size = 4, 15, 64 * 1024

    def write(n: int) -> None:
        for i in range(entries):
            body = f"+{n}-{i}-" + chr(ord("a") + n) * size + "\n"
            append_entry(path, f"\n# now\n{body}".encode())

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    got = list(MaskedFileHistory(path).load_history_strings())
    assert len(got) == writers * entries
    for entry in got:
        n = int(entry.split("-")[0])
        assert entry.endswith(chr(ord("a") + n) * size) and len(entry) < size + 16


# -- linear ----------------------------------------------------------------------

PATHOLOGICAL = ["pass", "a", "password=", 'x "', '"password": "', "key=", "=",
                "secret-", " object_add secret,data=", "\\", '"a":', "qom-type=secret ",
                'human-monitor-command command-line="set_password vnc ', " ; ", ",,", "@", "@a "]


@pytest.mark.parametrize("unit", PATHOLOGICAL)
def test_pathological_long_lines_are_masked_without_losing_text(unit: str) -> None:
    """How long these take is measured in bench/bench_masking.py (as a ratio to
    a linear scan of the same text); here: a 100 KB line of each shape comes
    back whole, and a secret after it is still found."""
    line = (unit * (100_000 // len(unit) + 1))[:100_000]
    if not any(word in unit for word in ("password", "secret", "data")):
        assert mask_line(line) == line
    if '"' not in unit:  # an open quote would take the rest of the line as its value
        masked = mask_line(f"set_password protocol=vnc x={line.replace(' ', '')} "
                           f"password={SECRET}")
        assert SECRET not in masked and masked.endswith(f"password={MASK}")


def test_a_100_kb_paste_with_a_secret_is_masked_whole() -> None:
    line = "set_password protocol=vnc " + "x=" + "y" * 100_000 + f" password={SECRET}"
    assert mask_line(line).endswith(f"password={MASK}")
