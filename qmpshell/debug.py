"""``--debug`` (or ``QMPSHELL_DEBUG=1``): the shell's own decisions on stderr,
for bug reports: which schema was chosen and why, schema cache hits and
misses, confirmations, reconnects.

:mod:`logging` is imported only when debugging, since a scripted run's
start-up is measured; :func:`note` is a dictionary look-up otherwise.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing
if TYPE_CHECKING:
    from typing import TextIO

LOGGER = "qmpshell"


def enable(stream: TextIO | None = None) -> None:
    """Log the decisions :func:`note` reports to ``stream`` (stderr)."""
    import logging

    from qmpshell.terminaltext import visible

    class Visible(logging.Formatter):
        """Decisions quote the server and files: control characters shown."""

        def format(self, record: logging.LogRecord) -> str:
            return visible(super().format(record))

    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(Visible(
        "qmpshell debug %(relativeCreated)7.1f ms %(name)s: %(message)s"))
    logger = logging.getLogger(LOGGER)
    logger.handlers[:] = [handler]
    logger.setLevel(logging.DEBUG)
    logger.propagate = False


def note(area: str, message: str, *args: object) -> None:
    """Report one decision (``message % args``) under ``qmpshell.AREA``.

    Without :func:`enable` nothing is written: logging is then either not
    imported at all, or (imported by asyncio) below its default level."""
    logging = sys.modules.get("logging")
    if logging is not None:
        logging.getLogger(f"{LOGGER}.{area}").debug(message, *args)
