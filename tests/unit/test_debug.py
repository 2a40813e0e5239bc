"""--debug: the shell's decisions on stderr, and nothing (not even the
logging import) without it."""

from __future__ import annotations

import io
import subprocess
import sys
from collections.abc import Iterator

import pytest

from qmpshell.debug import LOGGER, enable, note


@pytest.fixture
def debug_log() -> Iterator[io.StringIO]:
    import logging

    stream = io.StringIO()
    enable(stream)
    yield stream
    logger = logging.getLogger(LOGGER)
    logger.handlers.clear()
    logger.setLevel(logging.NOTSET)
    logger.propagate = True


def test_notes_are_written_when_enabled(debug_log: io.StringIO) -> None:
    note("schema.cache", "hit: %s", "/x/schema-abc.json")
    line = debug_log.getvalue()
    assert line.startswith("qmpshell debug ") and line.endswith(
        "qmpshell.schema.cache: hit: /x/schema-abc.json\n")


def test_nothing_and_no_logging_import_without_it() -> None:
    code = ("import sys; from qmpshell.debug import note; note('x', 'y %s', 1); "
            "assert 'logging' not in sys.modules, 'logging imported'")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0 and done.stderr == "", done.stderr


def test_the_flag_and_the_environment_turn_it_on() -> None:
    from qmpshell.cli.options import build_parser
    from qmpshell.settings import settings_from_args

    def debug(argv: list[str], env: dict[str, str]) -> bool:
        args = build_parser().parse_args(argv)
        return settings_from_args(args, [], env=env, stdin_tty=False,
                                  stdout_tty=False).debug

    assert debug(["--debug"], {}) and debug([], {"QMPSHELL_DEBUG": "1"})
    assert not debug([], {}) and not debug([], {"QMPSHELL_DEBUG": "0"})
