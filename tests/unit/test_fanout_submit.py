"""A line for several VMs over the blocking driver: every request is sent
before any reply is read, so the VMs work at once without a thread."""

from __future__ import annotations

from typing import Any, cast

from qmpshell.errors import ConnectError
from qmpshell.runner.fanout import Capture, Submitting, submit_then_collect
from qmpshell.runner.fleet import Member
from qmpshell.wire.connection import QmpConnection, Reply


class Recording:
    """Submits and collects, noting the order of both."""

    def __init__(self, name: str, log: list[str], *, lost: bool = False) -> None:
        self.name, self.log, self.lost = name, log, lost

    def submit(self, request: dict[str, Any]) -> int:
        if self.lost:
            raise ConnectError("connection lost: gone")
        self.log.append(f"submit {self.name}")
        return 7

    def collect(self, request_id: int, request: dict[str, Any],
                timeout: float | None = None) -> Reply:
        self.log.append(f"collect {self.name}")
        return Reply({"return": {"vm": self.name, "id": request_id}}, 1)


def captures(*conns: Recording) -> list[tuple[Capture, dict[str, Any]]]:
    request = {"execute": "query-status"}
    return [(Capture(Member(c.name, cast(QmpConnection, c))), request) for c in conns]


def test_every_request_goes_out_before_any_reply_is_read() -> None:
    log: list[str] = []
    conns = [Recording(n, log) for n in ("a", "b", "c")]
    assert all(isinstance(c, Submitting) for c in conns)
    replies = submit_then_collect(captures(*conns))
    assert log == ["submit a", "submit b", "submit c", "collect a", "collect b", "collect c"]
    assert [r.message["return"]["vm"] for r in replies if isinstance(r, Reply)] == ["a", "b", "c"]


def test_a_lost_vm_is_its_own_error_and_the_others_answer() -> None:
    log: list[str] = []
    replies = submit_then_collect(captures(Recording("a", log), Recording("b", log, lost=True)))
    assert isinstance(replies[0], Reply) and isinstance(replies[1], ConnectError)
    assert log == ["submit a", "collect a"]
