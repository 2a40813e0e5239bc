"""The prompt's key flows through prompt_toolkit's pipe input, with a fake
runner standing in for the real one (the pty tests use the real one)."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

from prompt_toolkit.application import create_app_session
from prompt_toolkit.data_structures import Size
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput
from prompt_toolkit.output.vt100 import Vt100_Output

from qmpshell.errors import ParseError
from qmpshell.prompt.app import PromptLexer, Repl, run
from qmpshell.runner.fleet import ConnectionSet
from qmpshell.runner.safety import confirmation_prompt
from qmpshell.schema.model import Command, Schema
from qmpshell.settings import Settings


class FakeRunner:
    """Records lines; 'transaction(' opens and ')' closes a transaction; a
    line in the safety table is put to ``ask`` first, as the runner does
    (unless ``yes``), and recorded only when the answer is yes."""

    def __init__(self) -> None:
        self.schema = Schema(commands={"query-status": Command("query-status", "empty"),
                                       "stop": Command("stop", "empty"),
                                       "quit": Command("quit", "empty")})
        self.connection = None
        self.vms = ConnectionSet()
        self.lines: list[str] = []
        self.prompts_seen: list[bool] = []
        self.stopped = False
        self.in_transaction = False
        self.out: Any = print
        self.report: Any = None
        self.terminal: Any = None
        self.notice: Any = None
        self.yes = False

    def run_line(self, line: str, where: str | None = None, *,
                 ask: Callable[[str], bool] | None = None) -> bool:
        question = confirmation_prompt({"execute": line.strip()})
        if question and ask is not None and not self.yes and not ask(question):
            self.notice("not run")
            return True
        self.lines.append(line)
        text = line.strip()
        if text == "transaction(":
            self.in_transaction = True
        elif text == ")":
            self.in_transaction = False
        elif text == ".quit":
            self.stopped = True
        elif text == "bad":
            self.report(ParseError("unknown command 'bad'"), where)
            return False
        return True

    def drain_events(self) -> None:
        return None


def drive(keys: str, runner: FakeRunner, tmp_path: Path, **settings: Any) -> tuple[int, str]:
    """Type ``keys`` at the prompt; the exit status and what the terminal got."""
    screen = io.StringIO()
    out = Vt100_Output(screen, lambda: Size(rows=24, columns=80), term="xterm")

    async def go() -> int:
        with create_pipe_input() as inp, create_app_session(input=inp, output=out):
            inp.send_text(keys)
            return await run(runner, Settings(**settings),  # type: ignore[arg-type]
                             history_path=tmp_path / "history", input=inp, output=out)
    status = asyncio.run(asyncio.wait_for(go(), 20))
    return status, screen.getvalue()


def test_enter_runs_the_line_through_the_runner(tmp_path: Path) -> None:
    runner = FakeRunner()
    assert drive("query-status\r\x04", runner, tmp_path)[0] == 0
    assert runner.lines == ["query-status"]


def test_ctrl_d_exits_cleanly_on_an_empty_line(tmp_path: Path) -> None:
    runner = FakeRunner()
    assert drive("\x04", runner, tmp_path)[0] == 0
    assert runner.lines == []


def test_dot_quit_exits(tmp_path: Path) -> None:
    runner = FakeRunner()
    assert drive(".quit\rstop\r", runner, tmp_path)[0] == 0
    assert runner.lines == [".quit"]


def test_ctrl_c_clears_the_line(tmp_path: Path) -> None:
    runner = FakeRunner()
    drive("stpo\x03stop\r\x04", runner, tmp_path)
    assert runner.lines == ["stop"]


def test_prompts_qemu_trans_and_hmp(tmp_path: Path) -> None:
    def screen(keys: str, **settings: Any) -> str:
        return drive(keys, FakeRunner(), tmp_path, **settings)[1]

    plain = screen("transaction(\r abort\r)\r\x04")
    assert plain.count("(QEMU) ") >= 2 and plain.count("TRANS> ") >= 2
    assert "(HMP) " in screen("info status\r\x04", hmp=True)


def test_history_file_has_lines_masked(tmp_path: Path) -> None:
    runner = FakeRunner()
    drive("set_password protocol=vnc password=secret123\rstop\r\x04", runner, tmp_path)
    assert runner.lines[0] == "set_password protocol=vnc password=secret123"
    text = (tmp_path / "history").read_text()
    assert "secret123" not in text
    assert "password=********" in text and "+stop" in text


def test_failures_are_reported_at_the_prompt(tmp_path: Path) -> None:
    _, screen = drive("bad\r\x04", FakeRunner(), tmp_path)
    assert "error: unknown command 'bad'" in screen


def test_pager_toggle(tmp_path: Path) -> None:
    runner = FakeRunner()
    _, screen = drive(".pager on\r.pager\r\x04", runner, tmp_path)
    assert screen.count("pager on") == 2
    assert runner.lines == []


def test_prompt_lexer_marks_unknown_commands() -> None:
    from prompt_toolkit.document import Document
    runner = FakeRunner()
    lexer = PromptLexer(lambda: runner.schema, lambda: False)
    line = lexer.lex_document(Document("stpo x=1"))(0)
    assert line[0] == ("class:pygments.error", "stpo")
    line = lexer.lex_document(Document("stop"))(0)
    assert line[0] == ("class:pygments.name.function", "stop")


def test_prompt_lexer_reads_a_line_for_a_vm_by_that_vms_schema() -> None:
    from prompt_toolkit.document import Document

    from qmpshell.schema.model import Command, Schema
    runner = FakeRunner()
    dst = Schema(commands={"dst-only": Command("dst-only", "empty")}, source="dst")
    lexer = PromptLexer(lambda: runner.schema, lambda: False,
                        target_schema=lambda target: dst if target == "dst" else runner.schema)
    words = [w for w in lexer.lex_document(Document("@dst dst-only"))(0) if w[1].strip()]
    assert words == [("class:pygments.name.label", "@dst"),
                     ("class:pygments.name.function", "dst-only")]
    words = [w for w in lexer.lex_document(Document("@src dst-only x=1"))(0) if w[1].strip()]
    assert words[1] == ("class:pygments.error", "dst-only")
    words = [w for w in lexer.lex_document(Document("@dst dst-o"))(0) if w[1].strip()]
    assert words[1][0] != "class:pygments.error"  # still being typed


def test_toolbar_follows_the_line(tmp_path: Path) -> None:
    async def go() -> None:
        with create_pipe_input() as inp:
            repl = Repl(FakeRunner(), Settings(), input=inp,  # type: ignore[arg-type]
                        output=DummyOutput())
            repl.session.default_buffer.text = "stpo"
            assert repl.toolbar() == [("class:toolbar.error",
                                       "unknown command stpo (did you mean stop?)")]
    asyncio.run(go())


def test_destructive_command_asks_first(tmp_path: Path) -> None:
    runner = FakeRunner()
    screen = drive_answering([("", "quit\r"), ("Run it?", "n\r"), ("(QEMU)", "quit\r"),
                              ("Run it?", "y\r\x04")], runner, tmp_path)
    assert "quit: this stops QEMU" in screen and "not run" in screen
    assert runner.lines == ["quit"]  # only the confirmed one ran
    runner = FakeRunner()
    runner.yes = True
    drive("quit\r\x04", runner, tmp_path)
    assert runner.lines == ["quit"]


PASTE_START, PASTE_END = "\x1b[200~", "\x1b[201~"


def test_a_paste_of_several_lines_runs_them_one_by_one(tmp_path: Path) -> None:
    runner = FakeRunner()
    keys = f"{PASTE_START}query-status\rstop\r\nquer{PASTE_END}y-status\r\x04"
    assert drive(keys, runner, tmp_path)[0] == 0
    # the unfinished last line waited on the prompt for the rest of it
    assert runner.lines == ["query-status", "stop", "query-status"]


def test_a_paste_without_a_newline_stays_on_the_line(tmp_path: Path) -> None:
    runner = FakeRunner()
    drive(f"{PASTE_START}query-status{PASTE_END}\x15stop\r\x04", runner, tmp_path)
    assert runner.lines == ["stop"]  # Ctrl-U cleared the pasted text: it was not run


def drive_answering(steps: list[tuple[str, str]], runner: FakeRunner, tmp_path: Path,
                    **settings: Any) -> str:
    """Type each step's keys once its text shows on the terminal ('' at
    once), as a person answers a question after reading it."""
    screen = io.StringIO()
    out = Vt100_Output(screen, lambda: Size(rows=24, columns=80), term="xterm")

    async def go() -> int:
        with create_pipe_input() as inp, create_app_session(input=inp, output=out):
            shell = asyncio.ensure_future(run(
                runner, Settings(**settings),  # type: ignore[arg-type]
                history_path=tmp_path / "history", input=inp, output=out))
            seen = 0
            for text, keys in steps:
                while text not in screen.getvalue()[seen:]:
                    await asyncio.sleep(0.01)
                inp.send_text(keys)
                seen = len(screen.getvalue())
            return await shell
    assert asyncio.run(asyncio.wait_for(go(), 20)) == 0
    return screen.getvalue()


def test_only_a_key_typed_after_a_question_answers_it(tmp_path: Path) -> None:
    runner = FakeRunner()
    # a paste, and keys typed right after it, before any question
    drive_answering([("", f"{PASTE_START}quit\rquery-status\r{PASTE_END}stop\r"),
                     ("Run it?", "n\r\x04")], runner, tmp_path)
    assert runner.lines == ["query-status", "stop"]


def test_a_paste_while_a_question_is_asked_waits_for_the_answer(tmp_path: Path) -> None:
    runner = FakeRunner()
    drive_answering([("", "quit\r"),
                     ("Run it?", f"{PASTE_START}query-status\rstop\r{PASTE_END}"),
                     ("", "n\r\x04")], runner, tmp_path)
    assert runner.lines == ["query-status", "stop"]


def test_a_question_wider_than_the_terminal_asks_on_a_line_of_its_own() -> None:
    from qmpshell.prompt.app import fit_question

    question = "quit: this stops QEMU and the VM with it. Run it? [y/N] "
    assert fit_question(question, 80) == question
    assert fit_question(question, 40) == "quit: this stops QEMU and the VM with it.\nRun it? [y/N] "
    assert fit_question("transaction: a. b. Run it? [y/N] ", 10) == \
        "transaction: a. b.\nRun it? [y/N] "
