"""Example lines and requests for every entry of qmpshell.secrets.SECRET_TABLE,
each carrying :data:`SECRET`, for the tests of every place secrets are masked."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

SECRET = "S3cr3t-XYZ"


def hmc(line: str) -> dict[str, Any]:
    return {"execute": "human-monitor-command", "arguments": {"command-line": line}}


# For each entry: a line as typed at the prompt or in a session file, and
# the request it sends (HMP entries: the HMP line, sent through hmc()).
QMP_EXAMPLES: dict[tuple[str, str], tuple[str, dict[str, Any]]] = {
    ("set_password", "password"): (
        f"set_password protocol=vnc password={SECRET}",
        {"execute": "set_password", "arguments": {"protocol": "vnc", "password": SECRET}}),
    ("change-vnc-password", "password"): (
        f'change-vnc-password password="{SECRET}"',
        {"execute": "change-vnc-password", "arguments": {"password": SECRET}}),
    ("sev-inject-launch-secret", "secret"): (
        f"sev-inject-launch-secret packet-header=aGk= secret={SECRET}",
        {"execute": "sev-inject-launch-secret",
         "arguments": {"packet-header": "aGk=", "secret": SECRET}}),
    ("object-add", "data"): (
        f"object-add qom-type=secret id=sec0 data={SECRET}",
        {"execute": "object-add", "arguments": {"qom-type": "secret", "id": "sec0",
                                                "data": SECRET}}),
    ("object-add", "props.data"): (
        f"object-add qom-type=secret_keyring id=sec0 props.data={SECRET}",
        {"execute": "object-add", "arguments": {"qom-type": "secret_keyring", "id": "sec0",
                                                "props": {"data": SECRET}}}),
    ("qom-set", "value"): (
        f"qom-set path=/objects/sec0 property=data value={SECRET}",
        {"execute": "qom-set", "arguments": {"path": "/objects/sec0", "property": "data",
                                             "value": SECRET}}),
    ("blockdev-add", "cookie"): (
        f"blockdev-add driver=https node-name=web url=https://example.org/d.img "
        f"cookie={SECRET}",
        {"execute": "blockdev-add", "arguments": {
            "driver": "https", "node-name": "web", "url": "https://example.org/d.img",
            "cookie": SECRET}}),
    ("guest-set-user-password", "password"): (
        f"guest-set-user-password username=root password={SECRET} crypted=false",
        {"execute": "guest-set-user-password",
         "arguments": {"username": "root", "password": SECRET, "crypted": False}}),
    ("block_passwd", "password"): (
        f"block_passwd device=ide0-hd0 password={SECRET}",
        {"execute": "block_passwd", "arguments": {"device": "ide0-hd0", "password": SECRET}}),
    ("human-monitor-command", "command-line"): (
        f'human-monitor-command command-line="set_password vnc {SECRET}"',
        hmc(f"set_password vnc {SECRET}")),
}

HMP_EXAMPLES: dict[tuple[str, str], list[str]] = {
    ("set_password", "2"): [f"set_password vnc {SECRET}", f"set_password vnc {SECRET} -d d0 keep",
                            f'set_password spice "{SECRET} with spaces" fail'],
    ("change", "3"): [f"change vnc password {SECRET}"],
    ("block_passwd", "2"): [f"block_passwd ide0-hd0 {SECRET}"],
    ("object_add", "data"): [f"object_add secret,id=sec0,data={SECRET}",
                             f"object_add qom-type=secret,id=sec0,format=raw,data={SECRET}",
                             f"object_add secret_keyring,id=k,data={SECRET},,more",
                             '{"qom-type": "secret", "id": "s", "data": "' + SECRET + '"}'],
    ("qom-set", "3"): [f"qom-set /objects/sec0 data {SECRET}",
                       f'qom-set -j /objects/sec0 data "{SECRET}"'],
}


def hmp_lines() -> Iterator[str]:
    for lines in HMP_EXAMPLES.values():
        yield from (line if not line.startswith("{") else f"object_add {line}" for line in lines)
