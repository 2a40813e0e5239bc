"""Keys typed ahead of a yes/no question: a yes or a no meant for it is set
apart (it never answers the question, and is no command either)."""

from __future__ import annotations

import pytest

from qmpshell.prompt.keys import early_answer


@pytest.mark.parametrize("word", ["n", "N", "no", " y ", "Yes"])
def test_a_first_line_that_is_only_an_answer_is_set_apart(word: str) -> None:
    assert early_answer(f"{word}\nquery-status\n") == (word.strip(), "query-status\n")


@pytest.mark.parametrize("text", [
    "query-status\nn\n",  # an answer after another line is that line's business
    "n",  # not entered: it stays on the line, for the person to finish
    "nope\n",
    "",
])
def test_anything_else_is_left_as_typed(text: str) -> None:
    assert early_answer(text) == (None, text)
