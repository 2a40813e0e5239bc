"""Rendering is pure: messages in, text out; compact is exactly json.dumps."""

from __future__ import annotations

import json
import re
import time

from qmpshell.runner.render import Renderer, event_time
from qmpshell.settings import resolve_color

REPLY = {"return": {"status": "running", "running": True}}
ERROR = {"error": {"class": "DeviceNotFound", "desc": "Device 'nope' not found"}}
EVENT = {"timestamp": {"seconds": 1700000000, "microseconds": 250000}, "event": "STOP"}


def test_compact_is_one_json_dumps_line() -> None:
    r = Renderer(pretty=False, color=False)
    for message in (REPLY, ERROR, EVENT):
        text = r.reply(message) if "event" not in message else r.event(message)
        assert text == json.dumps(message)
        assert "\n" not in text


def test_pretty_reply_is_indented_json() -> None:
    text = Renderer(pretty=True).reply(REPLY)
    assert json.loads(text) == REPLY
    assert text.count("\n") >= 3


def test_pretty_error_names_class_and_desc() -> None:
    assert Renderer(pretty=True).reply(ERROR) == "error: DeviceNotFound: Device 'nope' not found"


def test_pretty_event_has_readable_time_and_data() -> None:
    event = {**EVENT, "event": "BLOCK_JOB_COMPLETED", "data": {"device": "j0", "len": 1}}
    text = Renderer(pretty=True).event(event)
    header, body = text.split("\n", 1)
    expected = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(1700000000)) + ".250"
    assert header == f"{expected} BLOCK_JOB_COMPLETED"
    assert json.loads(body) == {"device": "j0", "len": 1}
    assert event_time({"event": "X"}) == ""


def test_hmp_reply_is_text() -> None:
    r = Renderer(pretty=False)
    assert r.hmp_reply({"return": "VM status: running\r\n"}) == "VM status: running"
    assert r.hmp_reply({"return": "a\r\nb\r\n"}) == "a\nb"
    assert r.hmp_reply(ERROR) == json.dumps(ERROR)


def test_colour_only_when_asked() -> None:
    plain = Renderer(pretty=False, color=False).reply(REPLY)
    coloured = Renderer(pretty=False, color=True, style="monokai").reply(REPLY)
    assert "\x1b[" not in plain
    assert "\x1b[" in coloured
    stripped = re.sub(r"\x1b\[[0-9;]*m", "", coloured)
    assert stripped == plain


def test_unknown_style_falls_back() -> None:
    assert "\x1b[" in Renderer(color=True, style="no-such-style").reply(REPLY)


def test_error_colour() -> None:
    text = Renderer(pretty=True, color=True).reply(ERROR)
    assert "\x1b[" in text and "DeviceNotFound" in text


def test_resolve_color() -> None:
    assert resolve_color("always", {"NO_COLOR": "1"}, False) is True
    assert resolve_color("never", {}, True) is False
    assert resolve_color("auto", {}, True) is True
    assert resolve_color(None, {}, False) is False
    assert resolve_color("auto", {"NO_COLOR": "1"}, True) is False
    assert resolve_color("auto", {"TERM": "dumb"}, True) is False
