"""The errors qmpshell reports to its users, as one small hierarchy.

Every module raises one of these; ``cli`` maps them to messages and exit
codes in one place, so nothing else prints a traceback.
"""

from __future__ import annotations


class QmpShellError(Exception):
    """Base of every error the shell reports to the user as one line."""

    exit_code = 1
    severity = "error"
    """How the message is labelled: 'error', or 'warning' for a :class:`Caution`."""


class Caution(QmpShellError):
    """Not a failure: something the user should know before it happens
    ('drive-backup' is deprecated).  Reported, and the line goes on."""

    severity = "warning"


class ParseError(QmpShellError):
    """A line that could not be parsed or validated.

    ``column`` is 1-based (0 when the whole line is at fault)."""

    def __init__(self, message: str, column: int = 0, line: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.column = column
        self.line = line

    def __str__(self) -> str:
        if self.column:
            return f"column {self.column}: {self.message}"
        return self.message


class SchemaError(QmpShellError):
    """A schema or spec file that could not be read."""

    exit_code = 2


class ConnectError(QmpShellError):
    """Could not connect, or the connection was lost."""

    exit_code = 3


class QMPError(QmpShellError):
    """The server answered a command with an error."""

    def __init__(self, error_class: str, desc: str) -> None:
        super().__init__(f"{error_class}: {desc}")
        self.error_class = error_class
        self.desc = desc


class CommandTimeout(ConnectError):
    """No reply arrived within --timeout."""
