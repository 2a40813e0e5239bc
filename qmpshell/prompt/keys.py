"""Keys as a person's fingers expect them: Tab as readline does it, whatever
the timing of the keys before it; pasted lines run one by one.

prompt_toolkit completes while typing in a background coroutine, and drops a
second request while one runs, so a Tab that arrives with the text before it
(over ssh, from a fast typist, in a paste) did nothing.  Here Tab reads the
line as it is at that key and decides at once (:func:`tab_choice` is pure and
needs no server); the menus it shows are its own, so a coroutine still busy
with an older text cannot undo them.

A bracketed paste of several lines is entered line by line, each as if typed
and followed by Enter (:class:`PendingInput`); a question takes only keys
typed after it was asked (:func:`typed_ahead` sets earlier ones aside);
keys typed while a line runs wait for the next prompt as typed
(:func:`keys_wait`).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator

from prompt_toolkit.application import get_app
from prompt_toolkit.buffer import Buffer, CompletionState
from prompt_toolkit.completion import CompleteEvent, Completer, Completion
from prompt_toolkit.document import Document
from prompt_toolkit.input import Input
from prompt_toolkit.input.typeahead import get_typeahead
from prompt_toolkit.keys import Keys

from qmpshell.prompt.completion import Candidate, TabChoice
from qmpshell.prompt.prepaint import quiet_settings

PATIENCE = 10
"""How many look-up deadlines a Tab pressed before the server's names came
waits for them (in the background: keys go on meanwhile)."""

TabSource = Callable[[Document], tuple[str, TabChoice]]
"""The word before the cursor and what Tab does with it."""


class TabKey:
    """The Tab key of one prompt.

    First Tab: a lone candidate is inserted (then what may follow it is
    shown); several insert their common start and show the menu, nothing
    selected.  A Tab on that menu moves through it.  Where the names come
    from the server and are not known yet, the Tab takes effect when they
    come (the line unchanged), or not at all if they take seconds."""

    def __init__(self, source: TabSource, completer: Completer | None = None) -> None:
        self._source = source
        self._completer = completer
        self._menu: CompletionState | None = None

    def __call__(self, buffer: Buffer) -> None:
        state = buffer.complete_state
        if state is not None and state.completions and (
                state is self._menu or state.complete_index is not None):
            buffer.complete_next()
            return
        prefix, choice = self._source(buffer.document)
        if choice.text is None and not choice.menu and self._completer is not None:
            # nothing known yet: Tab takes effect when the server answers
            get_app().create_background_task(self._when_known(buffer, buffer.document))
            return
        self._apply(buffer, prefix, choice)

    def _apply(self, buffer: Buffer, prefix: str, choice: TabChoice) -> None:
        if choice.text is not None:
            buffer.delete_before_cursor(len(prefix))
            buffer.insert_text(choice.text, fire_event=False)
        word = choice.text if choice.text is not None else prefix
        if choice.menu:
            self._menu = show_menu(buffer, [_completion(c, word) for c in choice.menu])
        elif choice.text is not None:
            self._menu = None
            self._show_what_follows(buffer)

    async def _when_known(self, buffer: Buffer, document: Document) -> None:
        """Tab once the server's names are in (for up to :data:`PATIENCE`
        look-up deadlines), unless the line changed meanwhile."""
        found: list[Completion] = []
        for _ in range(PATIENCE):  # each try waits out the look-up's own deadline
            found = await self._complete(document)
            if found or buffer.document != document:
                break
        if buffer.document != document or not found:
            return
        prefix, choice = self._source(document)
        if choice.text is None and not choice.menu:
            show_menu(buffer, found)  # names only the slow way knows
        else:
            self._apply(buffer, prefix, choice)

    async def _complete(self, document: Document) -> list[Completion]:
        assert self._completer is not None
        event = CompleteEvent(completion_requested=True)
        return [c async for c in self._completer.get_completions_async(document, event)]

    def _show_what_follows(self, buffer: Buffer) -> None:
        """After a lone candidate: the menu of what comes next (argument
        names after a command, live values after ``device=``), at once from
        what is known, then completed by the server's answer."""
        prefix, choice = self._source(buffer.document)
        if choice.menu:
            show_menu(buffer, [_completion(c, prefix) for c in choice.menu])
        if self._completer is not None:
            get_app().create_background_task(self._refresh(buffer, buffer.document))

    async def _refresh(self, buffer: Buffer, document: Document) -> None:
        found = await self._complete(document)
        state = buffer.complete_state
        if buffer.document != document or not found:
            return
        if state is not None and (state.complete_index is not None or
                                  len(state.completions) >= len(found)):
            return
        show_menu(buffer, found)


def show_menu(buffer: Buffer, completions: list[Completion]) -> CompletionState:
    """Show ``completions`` under the line, none selected."""
    state = CompletionState(original_document=buffer.document, completions=completions)
    buffer.complete_state = state
    buffer.on_completions_changed.fire()
    return state


def _completion(c: Candidate, word: str) -> Completion:
    return Completion(c.text, start_position=-len(word), display=c.display or c.text,
                      display_meta=c.meta)


# -- paste and typed-ahead input ----------------------------------------------

class PendingInput:
    """Lines pasted or typed ahead that wait their turn: each runs as if typed
    and entered at the prompt, in order; an unfinished last line is put on
    the prompt for editing."""

    def __init__(self) -> None:
        self._text = ""

    def add(self, text: str) -> None:
        self._text += text.replace("\r\n", "\n").replace("\r", "\n")

    def next_line(self) -> str | None:
        """The next whole line (None when only an unfinished one is left)."""
        line, newline, rest = self._text.partition("\n")
        if not newline:
            return None
        self._text = rest
        return line

    def take_unfinished(self) -> str:
        """The text after the last whole line: for the next prompt's line."""
        text, self._text = self._text, ""
        return text


def paste(buffer: Buffer, data: str, pending: PendingInput) -> None:
    """A bracketed paste: text without a newline goes on the line; with
    newlines, the first line is entered and the rest waits in ``pending``."""
    data = data.replace("\r\n", "\n").replace("\r", "\n")
    first, newline, rest = data.partition("\n")
    buffer.insert_text(first)
    if newline:
        pending.add(rest)
        buffer.validate_and_handle()


ANSWER_WORDS = ("y", "yes", "n", "no")


def early_answer(text: str) -> tuple[str | None, str]:
    """Split keys typed ahead of a question: a first line that is only a yes
    or a no (meant for the question, typed before it came) and the rest.
    Such a line is no command; running it would only say 'unknown command'."""
    first, newline, rest = text.partition("\n")
    if newline and first.strip().lower() in ANSWER_WORDS:
        return first.strip(), rest
    return None, text


@contextlib.contextmanager
def keys_wait(input: Input) -> Iterator[None]:
    """Between two prompts (a line runs, the next prompt is being set up):
    keys typed wait for the next prompt as they were typed; prompt_toolkit
    takes the terminal from these settings and gives it back to them.  The
    terminal's own line editing would echo them into the line's output,
    take Ctrl-U and Backspace for itself, and eat a Ctrl-D typed on an empty
    line (the shell then never ended); its echo and line editing are off
    meanwhile.  Ctrl-C still interrupts."""
    try:
        import termios

        fd = input.fileno()
        if not os.isatty(fd):
            raise ValueError("not a terminal")
        saved = termios.tcgetattr(fd)
        termios.tcsetattr(fd, termios.TCSANOW,  # TCSANOW: typed keys stay
                          quiet_settings(saved, signals=True))
    except (ImportError, OSError, ValueError, NotImplementedError):
        yield
        return
    try:
        yield
    finally:
        with contextlib.suppress(OSError, termios.error):
            termios.tcsetattr(fd, termios.TCSANOW, saved)


def typed_ahead(input: Input) -> str:
    """Keys that reached the terminal but no prompt yet, as text (Enter as a
    newline, pastes whole; cursor keys and the like are dropped): taken
    before a question is asked, so that only a key typed after it answers."""
    keys = get_typeahead(input)
    with contextlib.suppress(OSError, ValueError, NotImplementedError), input.raw_mode():
        keys += input.read_keys()
        keys += input.flush_keys()
    text = []
    for key in keys:
        if key.key == Keys.BracketedPaste:
            text.append(key.data.replace("\r\n", "\n").replace("\r", "\n"))
        elif key.key in (Keys.ControlM, Keys.ControlJ):
            text.append("\n")
        elif len(key.data) == 1 and key.data.isprintable():
            text.append(key.data)
    return "".join(text)
