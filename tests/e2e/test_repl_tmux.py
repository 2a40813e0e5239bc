"""End to end in tmux: the installed ``qmpshell`` against a real QEMU, typed at
in bursts (the text and the Tab in ONE send-keys call, as over ssh or from a
fast typist) and pasted into with bracketed paste."""

from __future__ import annotations

import sys
import time
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
    env = isolated_env(home, answers_cpr=True)
    tmux = Tmux(tmp_path, [str(QMPSHELL), str(machine.socket_path)], env)
    try:
        tmux.wait_line(PROMPT)
        tmux.wait_text("Tab: complete")  # the toolbar: the prompt itself, not its first paint
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


def lines_with(term: Tmux, *texts: str) -> list[int]:
    """Where each of ``texts`` first shows in the whole output, in order."""
    lines = term.everything()
    found = []
    start = 0
    for text in texts:
        at = next(i for i in range(start, len(lines)) if text in lines[i])
        found.append(at)
        start = at + 1
    return found


def test_a_paste_of_three_lines_runs_three_commands_in_order(term: Tmux) -> None:
    term.paste("query-status\nquery-kvm\nquery-version\n")
    term.wait_text('"qemu": {')
    term.wait_line(PROMPT)
    lines_with(term, PROMPT + "query-status", '"running": true',
               PROMPT + "query-kvm", '"enabled": false',
               PROMPT + "query-version", '"qemu": {')
    assert term.count("error") == 0


def test_a_pasted_transaction_is_one_transaction(term: Tmux) -> None:
    term.paste("transaction(\n"
               "block-dirty-bitmap-add node=scratch name=b1\n"
               "block-dirty-bitmap-add node=scratch name=b2\n"
               ")\n")
    term.wait_text('"return": {}')
    term.wait_line(PROMPT)
    lines_with(term, PROMPT + "transaction(", "TRANS> block-dirty-bitmap-add node=scratch name=b1",
               "TRANS> block-dirty-bitmap-add node=scratch name=b2", "TRANS> )", '"return": {}')
    assert term.count('"return"') == 1 and term.count("error") == 0


def test_a_pasted_line_waits_for_the_answer_to_a_question(term: Tmux) -> None:
    term.paste("system_reset\nquery-status\n")
    term.wait_text("Run it?")
    term.keys("n", "Enter")
    term.wait_text('"running": true')
    term.wait_line(PROMPT)
    lines_with(term, "system_reset: ", "not run", PROMPT + "query-status", '"running": true')
    assert term.count("Run it?") == 1 and term.count("RESET") == 0
    # 85 characters at 80 columns: the question goes under its reason, not cut by the terminal
    at = lines_with(term, "system_reset: ")[0]
    assert term.everything()[at:at + 2] == [
        "system_reset: this resets the VM at once; the guest loses unsaved work.",
        "Run it? [y/N] n"]


def test_a_no_typed_ahead_of_the_question_is_said_not_to_answer_it(term: Tmux) -> None:
    term.keys("system_reset", "Enter", "n", "Enter", "query-status", "Enter")  # one burst
    term.wait_text("Run it?")
    term.wait_text("'n' was typed before the question, so it does not answer it")
    term.keys("n", "Enter")
    term.wait_text('"running": true')
    term.wait_line(PROMPT)
    lines_with(term, "'n' was typed before", "system_reset: ", "not run",
               PROMPT + "query-status", '"running": true')
    assert term.count("unknown command") == 0 and term.count("RESET") == 0


def test_a_paste_without_a_newline_stays_on_the_line(term: Tmux) -> None:
    term.paste("query-status")
    term.wait_line(PROMPT + "query-status")
    term.keys("Enter")
    term.wait_text('"running": true')


def run_line(term: Tmux, line: str, reply: str = '"return": {}', *,
             confirm: bool = False) -> None:
    before = term.count(reply)
    term.type(line)
    term.keys("Enter")
    if confirm:
        term.wait_text("Run it?")
        term.keys("y", "Enter")
    term.wait_for(lambda: term.count(reply) > before, f"{line!r} answered")
    term.wait_line(PROMPT)


def test_live_node_names_and_job_ids(term: Tmux) -> None:
    run_line(term, "blockdev-add driver=null-co node-name=alpha")
    run_line(term, "blockdev-add driver=null-co node-name=beta")
    term.keys("blockdev-mirror device=al", "Tab")  # takes effect when QEMU answers
    term.wait_line(PROMPT + "blockdev-mirror device=alpha ")
    term.keys("target=b", "Tab")
    term.wait_line(PROMPT + "blockdev-mirror device=alpha target=beta ")
    run_line(term, "job-id=mj1 sync=full", confirm=True)
    # The mirror of a null device is ready at once; its events are printed
    # before typing goes on, so that this test is about completion alone.
    term.wait_text("BLOCK_JOB_READY")
    term.keys("job-cancel id=", "Tab")
    term.wait_line(PROMPT + "job-cancel id=mj1 ")


def test_live_device_drivers_and_their_properties(term: Tmux) -> None:
    term.keys("device_add driver=virtio-bl", "Tab")  # several: their common start, the menu
    term.wait_line(PROMPT + "device_add driver=virtio-blk-")
    term.wait_menu("virtio-blk-pci")
    term.wait_menu("virtio-blk-pci-transitional")
    term.keys("C-u")
    term.wait_line(PROMPT)
    term.keys("device_add driver=virtio-blk-pci num-q", "Tab")
    term.wait_line(PROMPT + "device_add driver=virtio-blk-pci num-queues=")


def test_wait_checks_the_event_first_and_says_when_one_came_earlier(term: Tmux) -> None:
    term.type(".wait BLOCK_JOB_REDY")
    term.keys("Enter")
    term.wait_text("unknown event 'BLOCK_JOB_REDY' (did you mean 'BLOCK_JOB_READY'?)",
                   deadline=2)
    term.wait_line(PROMPT)
    run_line(term, "stop")
    term.wait_text(" STOP")
    term.type(".wait STOP")
    term.keys("Enter")
    term.wait_text("STOP (received ")
    term.wait_line(PROMPT)


def test_the_prompt_says_what_it_is_connected_to(term: Tmux, machine: QemuProcess) -> None:
    """At 80 columns the banner is too wide for one line: the hint goes on
    the next, so the terminal does not cut a word in two."""
    term.wait_text("Connected to QEMU ")
    lines = term.everything()
    at = next(i for i, li in enumerate(lines) if li.startswith("Connected to QEMU "))
    assert lines[at].endswith(f"(x86_64) at {machine.socket_path}")
    assert lines[at + 1] == "Tab completes, .help lists commands"


def test_connect_again_to_the_same_qemu_at_once(term: Tmux, machine: QemuProcess) -> None:
    term.type(".connect")
    start = time.monotonic()
    term.keys("Enter")
    term.wait_text("connected to QEMU ", deadline=5)
    assert time.monotonic() - start < 1.0
    assert term.count(f"at {machine.socket_path}") == 2  # the banner, and this
    run_line(term, "query-status", '"running": true')
    assert term.count("error") == 0


def test_a_confirmed_quit_says_the_vm_quit(term: Tmux) -> None:
    term.type("quit")
    term.keys("Enter")
    term.wait_text("Run it?")
    term.keys("y", "Enter")
    term.wait_text("The VM quit.")
    term.wait_line(PROMPT)
    assert term.count("error") == 0 and term.count("connection lost") == 0


def test_a_connection_lost_during_a_wait_is_said_once(term: Tmux, machine: QemuProcess) -> None:
    term.type(".wait SUSPEND_DISK")
    term.keys("Enter")
    term.wait_for(lambda: term.input_line() == "", "the wait to start")
    machine.stop()
    term.wait_text("connection lost")
    term.wait_line(PROMPT)
    term.type("query-status")
    term.keys("Enter")
    term.wait_text("error: not connected")
    assert term.count("connection lost") == 1


def test_the_toolbar_at_80_columns_says_what_is_wrong_first(term: Tmux) -> None:
    term.type("blockdev-mirror job-id=j1 device=scratch target=scratch sync=full speed=fast")
    term.wait_for(lambda: term.screen()[-1].startswith("speed: expected an integer"),
                  "the error at the start of the toolbar")
    assert len(term.screen()[-1]) <= 80
    term.keys("C-u")
    term.type("block_resize device=scratch size=1Q")
    term.wait_for(lambda: term.screen()[-1].startswith("size: expected a"),
                  "the error at the start of the toolbar")
    styled = term.styled_input_line()  # the bad value underlined, the rest not
    assert "\x1b[4m1Q" in styled and "\x1b[4mscratch" not in styled


def test_lines_typed_ahead_run_in_order_each_output_under_its_line(term: Tmux) -> None:
    term.keys("query-status", "Enter", "query-kvm", "Enter", "query-version", "Enter")
    term.wait_text('"qemu": {')
    term.wait_line(PROMPT)
    lines_with(term, PROMPT + "query-status", '"running": true',
               PROMPT + "query-kvm", '"enabled": false',
               PROMPT + "query-version", '"qemu": {')


def test_hmp_mode_completes_hmp_command_names(machine: QemuProcess, home: Path,
                                              tmp_path: Path) -> None:
    tmux = Tmux(tmp_path, [str(QMPSHELL), "-H", str(machine.socket_path)],
                isolated_env(home, answers_cpr=True))
    try:
        tmux.wait_line("(HMP) ")
        tmux.keys("inf", "Tab")  # takes effect when QEMU's help is in
        tmux.wait_line("(HMP) info ")
        tmux.keys("block-j", "Tab", "Enter")  # what to show, from QEMU's 'help info'
        tmux.wait_text("(HMP) info block-jobs")
        tmux.wait_text("No active jobs")
    finally:
        tmux.close()


def test_a_quit_refused_then_a_lost_connection_is_a_loss(term: Tmux,
                                                         machine: QemuProcess) -> None:
    term.type("quit")
    term.keys("Enter")
    term.wait_text("Run it?")
    term.keys("n", "Enter")
    term.wait_text("not run")
    term.wait_line(PROMPT)
    machine.stop()
    term.wait_text("error: connection lost")
    assert term.count("The VM quit") == 0


def test_a_line_for_another_vm_completes_and_is_checked_by_that_vm(
        machine: QemuProcess, start_qemu: Callable[..., QemuProcess], home: Path,
        tmp_path: Path) -> None:
    """``@NAME line`` at the prompt: Tab completes the VM's name, then the line
    by that VM's schema and its own live names (here, a drive only it has);
    the toolbar checks the line there, not as an unknown command '@disk'."""
    bare = start_qemu("bare")  # -machine none: no drive
    env = isolated_env(home, answers_cpr=True)
    term = Tmux(tmp_path, [str(QMPSHELL), f"a={bare.socket_path}",
                           f"disk={machine.socket_path}"], env)
    prompt = "(a) "

    def toolbar_says(text: str) -> None:
        term.wait_for(lambda: text in term.screen()[-1], f"{text!r} in the toolbar")

    try:
        term.wait_line(prompt)
        term.wait_text("Tab: complete")
        term.keys("@di", "Tab", "query-kv", "Tab", "Enter")  # one burst
        term.wait_text(prompt + "@disk query-kvm")
        term.wait_text('"present": true')
        term.wait_line(prompt)
        term.keys("@disk block_resize dev", "Tab")
        term.wait_line(prompt + "@disk block_resize device=")
        term.wait_menu("scratch")  # the drive of 'disk'; 'a' has none
        toolbar_says("missing: size")
        term.keys("C-u", "@dsk query-status ")
        toolbar_says("no VM named 'dsk' (did you mean disk?")
        term.keys("C-u", "@disk query-status x=1")
        toolbar_says("unknown argument: x")
        term.keys("C-u", "@")
        toolbar_says("@NAME line: on one VM")
        term.keys("C-u", ".use d", "Tab", "Enter")  # one burst
        term.wait_line("(disk) ")
    finally:
        term.close()


def test_a_line_typed_the_moment_the_prompt_shows_is_completed_and_run(
        machine: QemuProcess, home: Path, tmp_path: Path) -> None:
    """Text, Tab and Enter in one burst as soon as ``(QEMU)`` shows, before
    the line editor is up: the text shows at once, and the editor, when it
    takes over, gets every key in order (the Tab completes, Enter runs)."""
    env = isolated_env(home, answers_cpr=True)
    term = Tmux(tmp_path, [str(QMPSHELL), str(machine.socket_path)], env)
    try:
        term.wait_text(PROMPT.strip())
        term.keys("query-kv", "Tab", "Enter")
        term.wait_text(PROMPT + "query-kvm")
        term.wait_text('"present": true')
        term.wait_line(PROMPT)
        term.keys("C-d")
        term.wait_for(lambda: PROMPT not in term.input_line(), "the shell to end")
    finally:
        term.close()
