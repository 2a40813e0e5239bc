"""``.pager on`` at a real prompt: a reply taller than the terminal goes to
$PAGER (here a command that keeps what it is given), then the prompt is back."""

from __future__ import annotations

import shlex
import sys
import time
from pathlib import Path

import pytest

pexpect = pytest.importorskip("pexpect")

from conftest import isolated_env  # noqa: E402
from helpers.qemu_process import QemuProcess  # noqa: E402

QMPSHELL = Path(sys.executable).parent / "qmpshell"
PROMPT = r"\(QEMU\)"
DEADLINE = 20

pytestmark = pytest.mark.qemu


def test_long_replies_go_to_pager_and_short_ones_do_not(qemu: QemuProcess, home: Path,
                                                         tmp_path: Path) -> None:
    paged = tmp_path / "paged.txt"
    env = {**isolated_env(home), "PAGER": f"cat > {shlex.quote(str(paged))}"}
    env.pop("MANPAGER", None)
    child = pexpect.spawn(str(QMPSHELL), [str(qemu.socket_path)], env=env,
                          dimensions=(24, 100), encoding="utf-8", timeout=DEADLINE)
    child.expect(PROMPT)
    child.send(".pager on\r")
    child.expect("pager on")
    child.send("query-version\r")  # a few lines: shown as usual
    child.expect('"qemu"')
    child.expect(PROMPT)
    assert not paged.exists()
    child.send(".help\r")  # hundreds of lines: through $PAGER
    deadline = time.monotonic() + DEADLINE
    while "Shell commands:" not in (paged.read_text() if paged.exists() else ""):
        assert time.monotonic() < deadline, "nothing reached $PAGER"
        child.expect([pexpect.TIMEOUT, pexpect.EOF], timeout=0.05)
    assert "query-status" in paged.read_text()
    child.send("query-status\r")
    child.expect('"status"')
    child.expect(PROMPT)
    child.sendcontrol("d")
    child.expect(pexpect.EOF)
