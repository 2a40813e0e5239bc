"""A line run on several VMs, shown at a terminal: identical outputs once,
under the list of VMs that gave them, then a summary (as ClusterShell's
``clush -b`` gathers the output of many nodes).

Pure: outcomes in, text out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

RULE = "-" * 15


@dataclass(frozen=True)
class Outcome:
    """What one VM's run of a line printed (each message rendered, in
    order) and whether the line succeeded there."""

    vm: str
    texts: tuple[str, ...]
    ok: bool


def gather(outcomes: Sequence[Outcome]) -> list[tuple[list[str], str]]:
    """(VM names, text) for each distinct output, in order of first appearance."""
    groups: dict[str, list[str]] = {}
    for outcome in outcomes:
        groups.setdefault("\n".join(outcome.texts), []).append(outcome.vm)
    return [(names, text) for text, names in groups.items()]


def header(names: Sequence[str]) -> str:
    """The banner over one group: ``src,dst (2)``."""
    return f"{RULE}\n{','.join(names)} ({len(names)})\n{RULE}"


def summary(target: str, outcomes: Sequence[Outcome]) -> str:
    """``@all: 3 VMs, 2 succeeded, 1 failed (web-3)``."""
    failed = [o.vm for o in outcomes if not o.ok]
    count = len(outcomes)
    text = f"@{target}: {count} VM{'s' if count != 1 else ''}, {count - len(failed)} succeeded"
    if failed:
        text += f", {len(failed)} failed ({', '.join(failed)})"
    return text


def render_gathered(target: str, outcomes: Sequence[Outcome]) -> list[str]:
    """The blocks to print: each group under its header, then the summary.
    VMs that printed nothing (``.sleep``, a ``.wait`` whose event is shown
    as it came) get no empty block: the summary counts them."""
    blocks = [header(names) + "\n" + text for names, text in gather(outcomes) if text]
    blocks.append(summary(target, outcomes))
    return blocks
