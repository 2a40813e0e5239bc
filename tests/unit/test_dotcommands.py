"""Dot-command lines read like any other line: a '#' comment is dropped."""

import pytest

from qmpshell.errors import ParseError
from qmpshell.shorthand.dotcommands import parse_dot


def test_a_comment_after_a_dot_command_is_dropped() -> None:
    assert parse_dot(".echo resized # the scratch disk").rest == "resized"
    assert parse_dot(".echo 'a # b'").rest == "'a # b'"
    assert parse_dot(".echo a#b").rest == "a#b"
    assert parse_dot(".sleep 0.1 # settle").rest == "0.1"


def test_an_unknown_dot_command_suggests_the_closest() -> None:
    with pytest.raises(ParseError, match=r"unknown dot-command \.wiat \(did you mean \.wait\?\)"):
        parse_dot(".wiat RESUME")
