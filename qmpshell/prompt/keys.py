"""Tab as readline does it, whatever the timing of the keys before it.

prompt_toolkit completes while typing in a background coroutine, and drops a
second request while one runs, so a Tab that arrives with the text before it
(over ssh, from a fast typist, in a paste) did nothing.  Here Tab reads the
line as it is at that key and decides at once (:func:`tab_choice` is pure and
needs no server); the menus it shows are its own, so a coroutine still busy
with an older text cannot undo them.
"""

from __future__ import annotations

from collections.abc import Callable

from prompt_toolkit.application import get_app
from prompt_toolkit.buffer import Buffer, CompletionState
from prompt_toolkit.completion import CompleteEvent, Completer, Completion
from prompt_toolkit.document import Document

from qmpshell.prompt.completion import Candidate, TabChoice

TabSource = Callable[[Document], tuple[str, TabChoice]]
"""The word before the cursor and what Tab does with it."""


class TabKey:
    """The Tab key of one prompt.

    First Tab: a lone candidate is inserted (then what may follow it is
    shown); several insert their common start and show the menu, nothing
    selected.  A Tab on that menu moves through it."""

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
        if choice.text is not None:
            buffer.delete_before_cursor(len(prefix))
            buffer.insert_text(choice.text, fire_event=False)
        word = choice.text if choice.text is not None else prefix
        if choice.menu:
            self._menu = show_menu(buffer, [_completion(c, word) for c in choice.menu])
        elif choice.text is not None:
            self._menu = None
            self._show_what_follows(buffer)

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
        assert self._completer is not None
        event = CompleteEvent(completion_requested=True)
        found = [c async for c in self._completer.get_completions_async(document, event)]
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
