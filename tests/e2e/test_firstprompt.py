"""The prompt painted as soon as the connection is up: the terminal is quiet
meanwhile, keys typed early reach the real prompt, and the terminal comes
back as it was."""

from __future__ import annotations

import asyncio
import io
import os
import sys
import termios
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from qmpshell.prompt import prepaint as firstprompt
from qmpshell.prompt.prepaint import FirstPrompt, paint_first_prompt

pexpect = pytest.importorskip("pexpect")

from conftest import isolated_env  # noqa: E402
from helpers.qemu_process import QemuProcess  # noqa: E402

QMPSHELL = Path(sys.executable).parent / "qmpshell"
TERM = {"TERM": "xterm"}
QUIET = termios.ECHO | termios.ICANON | termios.ISIG


@pytest.fixture
def pty() -> Iterator[tuple[int, Any]]:
    """(master fd, the slave end as a text file)."""
    master, slave = os.openpty()
    with open(slave, "w", closefd=True) as end:
        yield master, end
    os.close(master)


def lflag(end: Any) -> int:
    return int(termios.tcgetattr(end.fileno())[3])


def read_all(fd: int) -> bytes:
    os.set_blocking(fd, False)
    try:
        return os.read(fd, 4096)
    except BlockingIOError:
        return b""


def test_prompts_match_the_repl() -> None:
    from qmpshell.prompt import app as repl

    assert (firstprompt.PROMPT, firstprompt.PROMPT_HMP, firstprompt.PROMPT_AGENT) == (
        repl.PROMPT, repl.PROMPT_HMP, repl.PROMPT_AGENT)


def test_paint_quiets_the_terminal_and_release_gives_it_back(pty: tuple[int, Any]) -> None:
    master, end = pty
    before = lflag(end)
    assert before & QUIET == QUIET
    first = paint_first_prompt(False, end, end, TERM)
    assert first is not None
    assert lflag(end) & QUIET == 0
    assert read_all(master) == b"\x1b[?2004h(QEMU) "  # a paste arrives marked as one
    first.release()
    first.release()  # once only
    assert lflag(end) == before
    assert read_all(master) == b"\r\x1b[K\x1b[?2004l"


def read_until(fd: int, wanted: bytes, deadline: float = 10.0) -> bytes:
    """What ``fd`` gives until it has given ``wanted`` (fails after ``deadline`` s)."""
    import select
    import time

    got = b""
    end = time.monotonic() + deadline
    while wanted not in got:
        left = end - time.monotonic()
        assert left > 0, f"{wanted!r} did not come; got {got!r}"
        if select.select([fd], [], [], left)[0]:
            got += os.read(fd, 4096)
    return got


def wait_until_read(first: FirstPrompt, count: int, deadline: float = 10.0) -> None:
    """Until the painted prompt's reader has read ``count`` bytes of keys (a
    key written to a pty's master reaches the other end a moment later, so
    an empty input queue does not yet say it was read)."""
    import time

    end_at = time.monotonic() + deadline
    while first._keys is not None and len(first._keys._typed) < count:
        assert time.monotonic() < end_at, "the keys typed were not read"
        time.sleep(0.01)


def test_keys_typed_at_the_painted_prompt_show_at_once_and_are_kept(
        pty: tuple[int, Any]) -> None:
    """Plain text shows as it is typed (Backspace takes it back); the first
    other key ends the showing, but every key is kept, in order."""
    master, end = pty
    first = paint_first_prompt(False, end, end, TERM)
    assert first is not None
    assert read_until(master, b"(QEMU) ").endswith(b"(QEMU) ")
    os.write(master, b"query-sx")
    assert read_until(master, b"query-sx") == b"query-sx"
    os.write(master, b"\x7ft")
    assert read_until(master, b"\b \bt") == b"\b \bt"
    os.write(master, b"\tab\r")  # Tab: no longer shown, still kept
    typed = b"query-sx\x7ft\tab\n"  # the terminal reads Enter as \n
    wait_until_read(first, len(typed))
    assert first.take_typed() == typed
    assert first.take_typed() == b""  # once
    os.write(master, b"later")  # from now on the keys wait in the terminal's queue
    assert read_all(master) == b""
    queued = b""
    while len(queued) < len(b"later"):  # blocks until they come: nobody else reads them
        queued += os.read(end.fileno(), 100)
    assert queued == b"later"
    first.release()


def test_the_keys_read_go_first_to_prompt_toolkit(pty: tuple[int, Any],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from prompt_toolkit.input.typeahead import get_typeahead
    from prompt_toolkit.keys import Keys

    master, end = pty
    first = paint_first_prompt(False, end, end, TERM)
    assert first is not None
    read_until(master, b"(QEMU) ")
    os.write(master, b"ab\x1b[200~x\ny")  # a paste still arriving
    read_until(master, b"ab")
    monkeypatch.setattr(sys, "stdin", end)
    handover = firstprompt.handover_input(first)
    wait_until_read(first, len(b"ab\x1b[200~x\ny"))
    keys = get_typeahead(handover)
    assert [(k.key, k.data) for k in keys] == [("a", "a"), ("b", "b")]
    handover.vt100_parser.feed("z\x1b[201~")  # the rest of the paste, read by prompt_toolkit
    handover.vt100_parser.flush()
    assert [(k.key, k.data) for k in handover.flush_keys()] == [
        (Keys.BracketedPaste, "x\nyz")]
    first.release()


def test_hmp_prompt(pty: tuple[int, Any]) -> None:
    master, end = pty
    first = paint_first_prompt(True, end, end, TERM)
    assert first is not None
    first.release()
    assert read_all(master).startswith(b"\x1b[?2004h(HMP) ")


def test_a_slow_start_gives_the_terminal_back_early(pty: tuple[int, Any],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """Past HOLD the terminal is itself again (Ctrl-C interrupts a hang); the
    painted line stays until the real prompt takes over."""
    master, end = pty
    before = lflag(end)
    monkeypatch.setattr(firstprompt, "HOLD", 0.05)

    async def go() -> FirstPrompt:
        first = paint_first_prompt(False, end, end, TERM)
        assert first is not None
        await asyncio.sleep(0.3)
        return first

    first = asyncio.run(go())
    assert lflag(end) == before
    assert read_all(master) == b"\x1b[?2004h(QEMU) "
    first.release()
    assert read_all(master) == b"\r\x1b[K\x1b[?2004l"


def test_nothing_painted_without_a_terminal(pty: tuple[int, Any]) -> None:
    _, end = pty
    assert paint_first_prompt(False, io.StringIO(), end, TERM) is None
    assert paint_first_prompt(False, end, io.StringIO(), TERM) is None
    assert paint_first_prompt(False, end, end, {"TERM": "dumb"}) is None
    assert paint_first_prompt(False, end, end, {}) is None


# -- end to end ------------------------------------------------------------------
@pytest.fixture
def qemu_pty(start_qemu: Callable[..., QemuProcess]) -> QemuProcess:
    return start_qemu()


def spawn(qemu: QemuProcess, home: Path, command: str | None = None) -> Any:
    env = isolated_env(home)
    if command is None:
        return pexpect.spawn(str(QMPSHELL), [str(qemu.socket_path)], env=env,
                             dimensions=(30, 120), encoding="utf-8", timeout=20)
    return pexpect.spawn("/bin/sh", ["-c", command], env=env, dimensions=(30, 120),
                         encoding="utf-8", timeout=20)


def test_keys_typed_at_the_first_prompt_are_kept(qemu_pty: QemuProcess, tmp_path: Path) -> None:
    """Typed the moment the prompt shows, before the prompt proper is ready:
    a Ctrl-C clears the line as at the prompt, and the next line runs."""
    child = spawn(qemu_pty, tmp_path)
    child.expect(r"\(QEMU\) ")
    child.delaybeforesend = None
    child.send("garbage")
    child.sendcontrol("c")
    child.send("query-status\r")
    child.expect('"status": "running"')
    child.expect(r"\(QEMU\)")
    child.sendcontrol("d")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert "garbage" not in child.before


def test_the_terminal_is_as_it_was_after_exit(qemu_pty: QemuProcess, tmp_path: Path) -> None:
    modes = "stty -a | tr ' ' '\\n' | grep -x -e '-*echo' -e '-*icanon' -e '-*isig'"
    child = spawn(qemu_pty, tmp_path,
                  f'{QMPSHELL} {qemu_pty.socket_path}; echo "MODES:" $({modes})')
    child.expect(r"\(QEMU\) ")
    child.send("query-status\r")  # a line run: the terminal is quiet between prompts
    child.expect('"status": "running"')
    child.expect(r"\(QEMU\)")
    child.sendcontrol("d")
    child.expect(r"MODES: (\S+) (\S+) (\S+)")
    assert sorted(child.match.groups()) == ["echo", "icanon", "isig"]
    child.expect(pexpect.EOF)
