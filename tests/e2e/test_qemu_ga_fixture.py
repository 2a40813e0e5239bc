"""The qemu-ga fixture: a real agent on a private socket, everything that
could touch this machine blocked, always stopped."""

from __future__ import annotations

from helpers.qemu_ga import ALLOWED, QemuGA


def test_agent_runs_with_only_harmless_commands(qemu_ga: QemuGA) -> None:
    info = qemu_ga.ask({"execute": "guest-info"})["return"]
    assert isinstance(info, dict)
    enabled = {c["name"] for c in info["supported_commands"] if c["enabled"]}
    assert enabled <= ALLOWED and "guest-ping" in enabled
    assert {"guest-exec", "guest-shutdown", "guest-file-open", "guest-fsfreeze-freeze",
            "guest-set-time", "guest-network-get-interfaces"} <= set(qemu_ga.blocked)
    refused = qemu_ga.ask({"execute": "guest-file-open", "arguments": {"path": "/etc/hostname"}})
    assert refused["error"] == {"class": "CommandNotFound",  # type: ignore[comparison-overlap]
                                "desc": "Command guest-file-open has been disabled"}
