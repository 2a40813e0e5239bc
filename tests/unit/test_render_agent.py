"""Guest-agent replies whose output is base64 (guest-exec-status,
guest-file-read) are shown decoded at a terminal, and left alone in scripts."""

from __future__ import annotations

import base64
import json

from qmpshell.runner.render import Renderer, decode_base64_fields


def b64(text: bytes) -> str:
    return base64.b64encode(text).decode()


def test_exec_status_output_decoded_when_pretty() -> None:
    reply = {"return": {"exited": True, "exitcode": 0, "out-data": b64(b"hello\nworld\n"),
                        "err-data": b64(b"warn\x1b[2J\n")}}
    text = Renderer(pretty=True).reply(reply)
    assert '"out-data": "<12 bytes, decoded below>"' in text
    assert text.endswith("out-data:\nhello\nworld\nerr-data:\nwarn^[[2J")
    assert "\x1b" not in text  # the guest's text cannot drive the terminal


def test_file_read_binary_stays_base64() -> None:
    data = b64(b"\xff\xfe\x00binary")
    shown, texts = decode_base64_fields({"count": 9, "buf-b64": data, "eof": True})
    assert shown["buf-b64"] == data and texts == []


def test_compact_output_unchanged() -> None:
    reply = {"return": {"count": 5, "buf-b64": b64(b"hello"), "eof": True}}
    assert Renderer(pretty=False).reply(reply) == json.dumps(reply)
