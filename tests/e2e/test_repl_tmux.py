"""End to end in tmux: the installed ``qmpshell`` against a real QEMU, typed at
in bursts (the text and the Tab in ONE send-keys call, as over ssh or from a
fast typist) and pasted into with bracketed paste."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest import isolated_env
from helpers.qemu_process import QemuProcess
from helpers.tmux import Tmux, have_tmux

QMPSHELL = Path(sys.executable).parent / "qmpshell"
PROMPT = "(QEMU) "
ROUNDS = 20

pytestmark = [pytest.mark.qemu,
              pytest.mark.skipif(not have_tmux(), reason="tmux is not installed")]


@pytest.fixture
def machine(start_qemu: Callable[..., QemuProcess]) -> QemuProcess:
    return start_qemu(scratch=True, tcp=True)


@pytest.fixture
def term(machine: QemuProcess, home: Path, tmp_path: Path) -> Iterator[Tmux]:
    """The shell on ``machine`` in an 80x24 tmux window, at its prompt."""
    env = isolated_env(home)
    tmux = Tmux(tmp_path, [str(QMPSHELL), str(machine.socket_path)], env)
    try:
        tmux.wait_line(PROMPT)
        yield tmux
    finally:
        tmux.close()


def test_tab_with_the_text_in_one_burst(term: Tmux) -> None:
    for _ in range(ROUNDS):
        term.keys("block_r", "Tab")
        term.wait_line(PROMPT + "block_resize ")
        term.keys("dev", "Tab")
        term.wait_line(PROMPT + "block_resize device=")
        term.keys("C-u")
        term.wait_line(PROMPT)


def test_tab_never_picks_one_of_several(term: Tmux) -> None:
    for _ in range(ROUNDS):
        term.keys("job-c", "Tab")
        term.keys("Tab")  # the second Tab moves into the menu: its first entry
        term.wait_line(PROMPT + "job-cancel")
        term.wait_text("job-complete")
        term.keys("C-u")
        term.wait_line(PROMPT)
    term.keys("job-c", "Tab", "X", "Enter")  # the first Tab left the word alone
    term.wait_text("job-cX")
