"""The guest agent's resynchronisation, fed plain byte strings: stale replies
before the 0xFF sentinel are never read, the sync reply is matched."""

from __future__ import annotations

import json

from qmpshell.wire.agent import AgentProtocol, sync_matches
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
    outgoing, token = proto.resync(1234)
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
    outgoing, token = proto.resync()
    proto.receive_data(b'{"return": {}, "id": 99}\n\xff'
                       + json.dumps({"return": token}).encode() + b"\n")
    (reply,) = events(proto)
    assert isinstance(reply, ReplyReceived) and sync_matches(reply.message, token)


def test_garbage_after_the_sentinel_still_fails() -> None:
    proto = AgentProtocol()
    events(proto)
    proto.resync()
    proto.receive_data(b"\xffnot json\n")
    (closed,) = events(proto)
    assert isinstance(closed, Closed) and "malformed JSON" in closed.reason
