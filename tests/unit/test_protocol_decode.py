"""The protocol core decodes a message straight with the C scanner when it
is UTF-8 and starts an object; it must accept and refuse exactly what
``json.loads`` does, whichever way a line is read."""

from __future__ import annotations

import json

import pytest

from qmpshell.wire.protocol import Closed, QmpProtocol, ReplyReceived

LINES = [
    b'{"return": {"status": "running", "singlestep": false, "running": true}, "id": 1}',
    b'{"return": {}, "id": 1}   \t ',
    b'{"return": "caf\xc3\xa9 \xe2\x98\x83", "id": 1}',
    b'{"return": [1, 2.5, -0.0, 1e400, NaN, Infinity, null], "id": 1}',
    b'{"return": {}, "id": 1} {"return": {}}',
    b'{"return": {}, "id": 1} x',
    b'{"return": [1,], "id": 1}',
    b'{"return": , "id": 1}',
    b'{"return": {"a": [tru]}, "id": 1}',
    b'{"return": "\xff", "id": 1}',
    b'{"return": "\\ud800", "id": 1}',
    b'{"return": "a\x01b", "id": 1}',
    b'{"return": {}, "id": 1',
    b'{"return": {}, "id": 1}}',
    '{"return": "x", "id": 1}'.encode("utf-16-le"),
    b'  {"return": {}, "id": 1}',
]


def accepted_by_json(raw: bytes) -> bool:
    try:
        return isinstance(json.loads(raw), dict)
    except ValueError:
        return False


@pytest.mark.parametrize("raw", LINES)
@pytest.mark.parametrize("pieces", [1, 2])
def test_a_message_is_taken_exactly_when_json_loads_takes_it(raw: bytes, pieces: int) -> None:
    proto = QmpProtocol(negotiate=False)
    proto.next_event()  # Ready
    request_id = proto.send({"execute": "query-status"}).request_id
    assert request_id == 1
    data = raw + b"\r\n"
    cut = len(data) // 2 if pieces == 2 else len(data)
    proto.receive_data(data[:cut])
    proto.receive_data(data[cut:])
    event = proto.next_event()
    if accepted_by_json(data):
        assert isinstance(event, ReplyReceived)
        expected = json.loads(raw)
        expected.pop("id")
        assert json.dumps(event.message) == json.dumps(expected)
    else:
        assert isinstance(event, Closed)
        assert "malformed JSON" in event.reason or "not an object" in event.reason
