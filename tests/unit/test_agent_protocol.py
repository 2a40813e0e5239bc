"""The guest agent's resynchronisation, fed plain byte strings: stale replies
before the 0xFF sentinel are never read, the sync reply is matched."""

from __future__ import annotations

import json
from typing import Any

import pytest

from qmpshell.errors import CommandTimeout, ConnectError
from qmpshell.wire.agent import (
    AgentConnection,
    AgentProtocol,
    new_token,
    sync_matches,
    sync_request,
)
from qmpshell.wire.connection import Reply
from qmpshell.wire.protocol import Closed, Ready, ReplyReceived


def events(proto: AgentProtocol) -> list[object]:
    out = []
    while (event := proto.next_event()) is not None:
        out.append(event)
    return out


def test_ready_without_greeting() -> None:
    proto = AgentProtocol()
    assert events(proto) == [Ready()]


def test_resync_discards_up_to_the_sentinel() -> None:
    proto = AgentProtocol()
    events(proto)
    lost = proto.send({"execute": "guest-info"})  # its reply is lost to a timeout
    token = 1234
    outgoing = proto.send(sync_request(token))
    assert outgoing.data.startswith(b"\xff{")
    sent = json.loads(outgoing.data[1:])
    assert sent == {"execute": "guest-sync-delimited", "arguments": {"id": 1234},
                    "id": outgoing.request_id}
    stale = json.dumps({"return": {"version": "7.2"}, "id": lost.request_id}).encode()
    proto.receive_data(b'{"error": {"class": "GenericError", "desc": "JSON parse error"}}\n')
    proto.receive_data(stale[:10])
    proto.receive_data(stale[10:] + b"\n\xff")
    assert events(proto) == []
    proto.receive_data(json.dumps({"return": 1234, "id": outgoing.request_id}).encode() + b"\n")
    (reply,) = events(proto)
    assert isinstance(reply, ReplyReceived) and reply.request_id == outgoing.request_id
    assert sync_matches(reply.message, token)
    assert not proto.discarding


def test_sentinel_and_reply_in_one_read() -> None:
    proto = AgentProtocol()
    events(proto)
    token = new_token()
    proto.send(sync_request(token))
    proto.receive_data(b'{"return": {}, "id": 99}\n\xff'
                       + json.dumps({"return": token}).encode() + b"\n")
    (reply,) = events(proto)
    assert isinstance(reply, ReplyReceived) and sync_matches(reply.message, token)


def test_garbage_after_the_sentinel_still_fails() -> None:
    proto = AgentProtocol()
    events(proto)
    proto.send(sync_request(new_token()))
    proto.receive_data(b"\xffnot json\n")
    (closed,) = events(proto)
    assert isinstance(closed, Closed) and "malformed JSON" in closed.reason


class Inner:
    """A connection that answers from a script, recording what it was asked."""

    name = "agent.sock"
    connected = True

    def __init__(self, *, time_out: set[str] | None = None) -> None:
        self.sent: list[dict[str, Any]] = []
        self.time_out = time_out or set()

    def execute(self, request: dict[str, Any], timeout: float | None = None) -> Reply:
        self.sent.append(request)
        name = request["execute"]
        if name in self.time_out:
            self.time_out.discard(name)
            raise CommandTimeout("no reply")
        if name == "guest-sync-delimited":
            return Reply({"return": request["arguments"]["id"]}, 0)
        return Reply({"return": {}}, 0)


def names(inner: Inner) -> list[str]:
    return [r["execute"] for r in inner.sent]


def test_connection_syncs_first_and_after_a_timeout() -> None:
    inner = Inner(time_out={"guest-get-time"})
    conn = AgentConnection(inner)  # type: ignore[arg-type]
    assert conn.execute({"execute": "guest-ping"}).message == {"return": {}}
    with pytest.raises(CommandTimeout):
        conn.execute({"execute": "guest-get-time"})
    conn.execute({"execute": "guest-ping"})
    conn.execute({"execute": "guest-ping"})
    assert names(inner) == ["guest-sync-delimited", "guest-ping", "guest-get-time",
                            "guest-sync-delimited", "guest-ping", "guest-ping"]


def test_connection_gives_up_when_the_agent_does_not_sync() -> None:
    conn = AgentConnection(Inner(time_out={"guest-sync-delimited"}))  # type: ignore[arg-type]
    with pytest.raises(ConnectError, match="did not answer guest-sync-delimited"):
        conn.execute({"execute": "guest-ping"})
