"""The man page covers every option and renders cleanly."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from qmpshell.cli.config import CONFIG_KEYS
from qmpshell.cli.options import build_parser
from tools.completions_gen import OUTPUTS, man_page

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / OUTPUTS["man"]


def render(page: Path) -> tuple[str, str]:
    """(text, warnings) of the page as a terminal shows it."""
    groff = shutil.which("groff")
    if groff is None:
        pytest.skip("groff is not installed here (apt-get install groff-base); "
                    "the man page is not rendered")
    result = subprocess.run([groff, "-man", "-Tutf8", "-ww", str(page)], capture_output=True,
                            text=True, timeout=60, env=dict(os.environ, MANWIDTH="80"))
    assert result.returncode == 0, result.stderr
    text = re.sub(r".\x08", "", result.stdout)       # overstrike bold/underline
    text = re.sub(r"\x1b\[[0-9;]*m", "", text)
    return text.replace("\u2010", "-").replace("\u2212", "-"), result.stderr


def test_every_option_is_in_the_source() -> None:
    text = PAGE.read_text()
    for action in build_parser()._actions:
        for option in action.option_strings:
            assert f"\\fB{option.replace('-', chr(92) + '-')}\\fR" in text, option


def test_renders_without_warnings_and_shows_every_option() -> None:
    text, warnings = render(PAGE)
    assert warnings == ""
    flat = " ".join(text.split())
    for action in build_parser()._actions:
        for option in action.option_strings:
            assert re.search(rf"(^|[\s,]){re.escape(option)}([\s,]|$)", flat, re.M), option
    for section in ("NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "EXAMPLES", "EXIT STATUS",
                    "FILES", "ENVIRONMENT"):
        assert re.search(rf"^{section}$", text, re.M), section
    assert "qmpshell SOCK -f session.qmp -e" in flat
    assert "--color auto|always|never" in flat
    assert "3 could not connect" in flat


def test_lists_the_config_keys() -> None:
    text, _ = render(PAGE)
    flat = " ".join(text.split())
    assert all(key in flat for key in CONFIG_KEYS)


def test_man_reads_it() -> None:
    man = shutil.which("man")
    if man is None:
        pytest.skip("man is not installed here (apt-get install man-db)")
    result = subprocess.run([man, "-l", str(PAGE)], capture_output=True, text=True, timeout=60,
                            env=dict(os.environ, MANPAGER="cat", PAGER="cat", MANWIDTH="80"))
    assert result.returncode == 0, result.stderr
    assert "qmpshell - an interactive shell for the QEMU Machine Protocol" in \
        result.stdout.replace("\u2010", "-")


def test_a_new_option_shows_up() -> None:
    parser = build_parser()
    parser.add_argument("--brand-new", metavar="THING", help="does a new thing")
    assert "\\fB\\-\\-brand\\-new\\fR \\fITHING\\fR" in man_page(parser)
