"""The QMP protocol core with plain byte strings: no socket, no loop."""

from __future__ import annotations

import json
from typing import Any

import pytest
from helpers.fake_server import GREETING, OLD_GREETING

from qmpshell.wire.protocol import (
    MAX_DEPTH,
    RECEIVED,
    SENT,
    Closed,
    Event,
    EventReceived,
    Outgoing,
    ProtocolError,
    QmpProtocol,
    Ready,
    ReplyReceived,
    State,
    UnmatchedReply,
    too_deep,
)


def line(message: Any) -> bytes:
    return json.dumps(message).encode() + b"\r\n"


def events(proto: QmpProtocol) -> list[Event]:
    out = []
    while (event := proto.next_event()) is not None:
        out.append(event)
    return out


def answer(out: Outgoing, message: dict[str, Any]) -> bytes:
    """``message`` as the server's reply to ``out``: with its id if it had one."""
    sent = json.loads(out.data.lstrip(b"\xff"))
    return line({**message, "id": sent["id"]} if "id" in sent else message)


def ready(greeting: dict[str, Any] = GREETING, **kw: Any) -> QmpProtocol:
    proto = QmpProtocol(**kw)
    proto.receive_data(line(greeting))
    data = proto.data_to_send()
    sent = json.loads(data)
    if greeting is GREETING:
        assert data == b'{"execute":"qmp_capabilities","arguments":{"enable":["oob"]}}'
    else:
        assert sent == {"execute": "qmp_capabilities", "arguments": {"enable": ["oob"]},
                        "id": sent["id"]}
    assert proto.state is State.NEGOTIATING
    proto.receive_data(line({"return": {}, **({"id": sent["id"]} if "id" in sent else {})}))
    assert events(proto) == [Ready()]
    assert proto.state is State.READY
    return proto


def test_greeting_negotiation_and_a_reply() -> None:
    proto = ready()
    assert proto.greeting == GREETING
    out = proto.send({"execute": "query-status"})
    assert out.data == b'{"execute":"query-status"}'  # the fewest bytes QEMU must read
    proto.receive_data(line({"return": {"status": "running"}}))
    (reply,) = events(proto)
    assert isinstance(reply, ReplyReceived)
    assert reply.request_id == out.request_id
    assert reply.message == {"return": {"status": "running"}}


def test_qemu_answers_in_order_so_replies_without_ids_are_matched_in_turn() -> None:
    proto = ready()
    a, b = proto.send({"execute": "a"}), proto.send({"execute": "b", "arguments": {"x": 1}})
    assert b.data == b'{"execute":"b","arguments":{"x":1}}'
    proto.receive_data(line({"return": "A"}) + line({"event": "E"}) + line({"return": "B"}))
    got = events(proto)
    assert [(e.request_id, e.message) for e in got if isinstance(e, ReplyReceived)] == \
        [(a.request_id, {"return": "A"}), (b.request_id, {"return": "B"})]
    assert isinstance(got[1], EventReceived)
    assert proto.pending == 0


def test_an_abandoned_request_without_id_keeps_its_turn() -> None:
    proto = ready()
    slow, nxt = proto.send({"execute": "slow"}), proto.send({"execute": "next"})
    proto.abandon(slow.request_id)
    assert proto.pending == 1
    proto.receive_data(line({"return": "late"}))
    assert events(proto) == []  # the late reply is the abandoned one's, dropped
    proto.receive_data(line({"return": "mine"}))
    (reply,) = events(proto)
    assert isinstance(reply, ReplyReceived)
    assert (reply.request_id, reply.message) == (nxt.request_id, {"return": "mine"})


def test_out_of_band_requests_keep_their_id_and_may_overtake() -> None:
    proto = ready()
    slow = proto.send({"execute": "slow"})
    oob = proto.send({"exec-oob": "migrate-pause"})
    assert json.loads(oob.data) == {"exec-oob": "migrate-pause", "id": oob.request_id}
    proto.receive_data(answer(oob, {"return": "paused"}) + line({"return": "slow"}))
    got = [(e.request_id, e.message["return"]) for e in events(proto)
           if isinstance(e, ReplyReceived)]
    assert got == [(oob.request_id, "paused"), (slow.request_id, "slow")]


def test_an_id_typed_in_a_json_line_is_not_sent() -> None:
    proto = ready()
    out = proto.send({"execute": "query-name", "id": "mine"})
    assert out.data == b'{"execute":"query-name"}'
    proto.receive_data(line({"return": {}}))
    assert isinstance(proto.next_event(), ReplyReceived)


def test_servers_older_than_qemu_3_get_an_id_in_every_request() -> None:
    proto = ready(OLD_GREETING)
    out = proto.send({"execute": "query-status"})
    assert out.data == b'{"execute":"query-status","id":%d}\n' % out.request_id


def test_events_keep_their_place_among_replies() -> None:
    proto = ready()
    proto.send({"execute": "stop"})
    proto.receive_data(line({"event": "STOP"}) + line({"return": {}})
                       + line({"event": "X"}))
    got = events(proto)
    assert [type(e) for e in got] == [EventReceived, ReplyReceived, EventReceived]
    stop, reply, x = got
    assert isinstance(stop, EventReceived) and isinstance(reply, ReplyReceived)
    assert isinstance(x, EventReceived)
    assert stop.seq < reply.seq < x.seq


def test_trickled_one_byte_at_a_time() -> None:
    proto = QmpProtocol()
    for i, byte in enumerate(line(GREETING)):
        assert proto.state is State.AWAITING_GREETING, i
        proto.receive_data(bytes([byte]))
    assert proto.state is State.NEGOTIATING


def test_replies_are_matched_by_id_in_any_order() -> None:
    proto = ready(OLD_GREETING)
    a, b = proto.send({"execute": "a"}), proto.send({"execute": "b"})
    proto.receive_data(line({"return": "B", "id": b.request_id})
                       + line({"return": "A", "id": a.request_id}))
    got = [(e.request_id, e.message["return"]) for e in events(proto)
           if isinstance(e, ReplyReceived)]
    assert got == [(b.request_id, "B"), (a.request_id, "A")]


def test_an_error_without_id_belongs_to_the_oldest_request() -> None:
    proto = ready(OLD_GREETING)
    a = proto.send({"execute": "a"})
    proto.send({"execute": "b"})
    proto.receive_data(line({"error": {"class": "GenericError", "desc": "bad JSON"}}))
    (reply,) = events(proto)
    assert isinstance(reply, ReplyReceived) and reply.request_id == a.request_id


@pytest.mark.parametrize("bad_id", [999, "1", None, True, [1]])
def test_a_reply_for_no_request_is_reported_once_and_ignored(bad_id: Any) -> None:
    proto = ready(OLD_GREETING)
    proto.receive_data(line({"return": {}, "id": bad_id}) * 3)
    (warning,) = events(proto)
    assert isinstance(warning, UnmatchedReply)
    assert warning.text.startswith("ignored a reply that answers no request (id ")
    assert proto.state is State.READY


def test_an_abandoned_reply_is_dropped_quietly() -> None:
    proto = ready(OLD_GREETING)
    a = proto.send({"execute": "slow"})
    proto.abandon(a.request_id)
    assert proto.pending == 0
    proto.receive_data(line({"return": {}, "id": a.request_id}))
    assert events(proto) == []


def test_skip_negotiation_is_ready_at_once() -> None:
    proto = QmpProtocol(negotiate=False)
    assert proto.state is State.READY
    assert events(proto) == [Ready()]
    out = proto.send({"execute": "guest-ping"})
    proto.receive_data(line({"return": {}, "id": out.request_id}))
    assert isinstance(proto.next_event(), ReplyReceived)


def test_skip_negotiation_keeps_a_greeting_that_comes_anyway() -> None:
    proto = QmpProtocol(negotiate=False)
    out = proto.send({"execute": "qmp_capabilities"})
    proto.receive_data(line(GREETING) + line({"return": {}, "id": out.request_id}))
    assert [type(e) for e in events(proto)] == [Ready, ReplyReceived]
    assert proto.greeting == GREETING


def closed(proto: QmpProtocol, data: bytes) -> Closed:
    proto.receive_data(data)
    last = events(proto)[-1]
    assert isinstance(last, Closed)
    assert proto.state is State.CLOSED
    return last


@pytest.mark.parametrize("greeting, reason", [
    (b"Welcome to the machine!\r\n", "did not understand the server's greeting (malformed JSON)"),
    (b"[1, 2]\n", "did not understand the server's greeting (JSON that is not an object)"),
    (line({"hello": 1}), "did not understand the server's greeting (not a QMP greeting)"),
    (line({"QMP": 5}), "(not a QMP greeting)"),
    (line({"QMP": {"capabilities": 5}}), "(capabilities is not a list of names)"),
    (line({"QMP": {"capabilities": [1]}}), "(capabilities is not a list of names)"),
    (line({"QMP": {"version": "7.2"}}), "(version is not an object)"),
    (line({"QMP": {"version": {"qemu": "7"}}}), "(version.qemu is not an object of numbers)"),
    (line({"QMP": {"version": {"qemu": {"major": "7"}}}}), "(version.qemu is not an object"),
    (line({"QMP": {"version": {"package": 3}}}), "(version.package is not a string)"),
    (b"[" * 300 + b"]" * 300 + b"\n", "greeting (JSON nested deeper than 256 levels)"),
    (b"\xff\xfe{}\n", "greeting (malformed JSON)"),
])
def test_odd_greetings_end_cleanly(greeting: bytes, reason: str) -> None:
    end = closed(QmpProtocol(), greeting)
    assert reason in end.reason
    assert end.setting_up


@pytest.mark.parametrize("greeting", [GREETING, OLD_GREETING])
def test_refused_negotiation(greeting: dict[str, Any]) -> None:
    proto = QmpProtocol()
    proto.receive_data(line(greeting))
    out = Outgoing(0, proto.data_to_send())
    end = closed(proto, answer(out, {"error": {"class": "GenericError", "desc": "no"}}))
    assert end == Closed("capabilities negotiation failed (no)", True)


@pytest.mark.parametrize("data, reason", [
    (b"", "the server closed the connection before greeting"),
    (b'{"QMP": ', "the server closed the connection in the middle of a message"),
])
def test_end_of_file_before_greeting(data: bytes, reason: str) -> None:
    proto = QmpProtocol()
    proto.receive_data(data)
    assert closed(proto, b"").reason == reason


@pytest.mark.parametrize("data, reason", [
    (b"{this is not json\r\n", "the server sent malformed JSON"),
    (b"42\n", "the server sent JSON that is not an object"),
    (b'{"return": ' + b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1) + b"}\n",
     "the server sent JSON nested deeper than 256 levels"),
    (b'{"event": "X", "data": ' + b'{"a":' * 100000 + b"1" + b"}" * 100001 + b"\n",
     "the server sent JSON nested deeper than 256 levels"),
])
def test_faults_after_negotiation(data: bytes, reason: str) -> None:
    proto = ready()
    proto.send({"execute": "x"})
    end = closed(proto, data)
    assert end == Closed(reason, False)
    assert proto.pending == 0
    with pytest.raises(ProtocolError):
        proto.send({"execute": "x"})


def test_cut_mid_reply() -> None:
    proto = ready()
    proto.send({"execute": "x"})
    proto.receive_data(b'{"return": {"stat')
    assert closed(proto, b"").reason == \
        "the server closed the connection in the middle of a message"


def test_oversized_message() -> None:
    proto = ready(max_size=1000)
    proto.receive_data(b'{"return": "' + b"x" * 600)
    assert proto.state is State.READY
    assert closed(proto, b"x" * 600).reason == \
        "a message from the server is larger than 0 MiB"
    whole = ready(max_size=1000)
    assert closed(whole, line({"return": "x" * 2000})).reason.startswith("a message from")


def test_nesting_at_the_limit_is_fine() -> None:
    proto = ready()
    proto.send({"execute": "x"})
    deep = "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1)
    proto.receive_data(b'{"return": ' + deep.encode() + b'}\n')
    assert isinstance(proto.next_event(), ReplyReceived)


def test_brackets_inside_strings_do_not_count() -> None:
    text = json.dumps({"return": "[" * 1000 + '\\"{' * 500}).encode()
    assert not too_deep(text, 10)
    assert too_deep(b'{"a": [[[["]"]]]]}', 4)
    assert not too_deep(b'{"a": [[["]"]]]}', 4)
    assert too_deep(rb'["a\\", [[[1]]]]', 3)  # an escaped backslash ends no string
    assert not too_deep(rb'["a\"]]]]", [[1]]]', 3)  # an escaped quote does not end it


@pytest.mark.parametrize("greeting", [GREETING, OLD_GREETING])
def test_the_observer_sees_every_message_as_sent(greeting: dict[str, Any]) -> None:
    seen: list[tuple[str, Any]] = []
    proto = ready(greeting, observer=lambda d, m: seen.append((d, dict(m))))
    out = proto.send({"execute": "stop"})
    proto.receive_data(answer(out, {"return": {}}))
    assert [d for d, _ in seen] == [RECEIVED, SENT, RECEIVED, SENT, RECEIVED]
    assert seen[-2][1] == json.loads(out.data)
    assert seen[-1][1] == {"return": {}, **({"id": out.request_id} if b'"id"' in out.data
                                            else {})}


def test_nothing_is_read_after_the_end() -> None:
    proto = ready()
    proto.close()
    assert events(proto) == [Closed("the connection was closed", False)]
    proto.receive_data(line({"event": "X"}))
    assert events(proto) == []
