"""What QEMU 7.2's own doc comments leave out, for the tests that count it."""

from __future__ import annotations

from qmpshell.schema.docs import DocsTable
from qmpshell.schema.model import Schema

UNDESCRIBED = {
    # QEMU 7.2's doc comment has no text but 'Returns:' (help shows that).
    "query-block-exports": "only its return value is documented",
    "query-hotpluggable-cpus": "QEMU's own comment: 'TODO: Better documentation; "
                               "currently there is none'",
}
"""QEMU 7.2 commands whose doc comment has no description, and why."""

UNDOCUMENTED_ARGS = {
    # Each of these is simply missing from QEMU 7.2's doc comment (job-resume
    # writes '@id :', which QEMU's parser reads as body text).
    "watchdog-set-action": {"action"}, "blockdev-reopen": {"options"},
    "job-resume": {"id"}, "block-export-add": {"type"}, "query-rocker": {"name"},
    "query-rocker-ports": {"name"}, "migrate-set-parameters": {"tls-authz"},
    "set-numa-node": {"type"}, "query-cpu-model-expansion": {"type", "model"},
    "yank": {"instances"}, "query-stats": {"target", "providers"},
    "query-stats-schemas": {"provider"},
}
"""Arguments QEMU 7.2 leaves without text, by command."""


def undescribed(schema: Schema, docs: DocsTable) -> set[str]:
    """The commands of ``schema`` whose doc comment has no description."""
    return {name for name in schema.commands
            if not ((entry := docs.command(name)) and entry.doc)}
