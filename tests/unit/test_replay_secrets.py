"""Finding a recording's masked secrets in a request and filling them in."""

from __future__ import annotations

import pytest

from qmpshell.runner.replaysecrets import (
    MaskedSecret,
    MaskedSecretError,
    SecretSource,
    masked_secrets,
    unmask,
)
from qmpshell.secrets import MASK


def hmp(line: str) -> dict[str, object]:
    return {"execute": "human-monitor-command", "arguments": {"command-line": line}}


@pytest.mark.parametrize(("request_", "names"), [
    ({"execute": "set_password", "arguments": {"protocol": "vnc", "password": MASK}},
     ["password"]),
    ({"execute": "object-add", "arguments": {"qom-type": "secret", "id": "s", "data": MASK}},
     ["data"]),
    ({"execute": "object-add", "arguments": {"qom-type": "secret", "id": "s",
                                             "props": {"data": MASK}}}, ["props.data"]),
    ({"execute": "transaction", "arguments": {"actions": [
        {"type": "x", "data": {"new-secret": MASK}}]}}, ["actions.data.new-secret"]),
    ({"execute": "blockdev-add", "arguments": {"driver": "file", "filename": MASK}}, []),
    ({"execute": "set_password", "arguments": {"protocol": "vnc", "password": "real"}}, []),
    (hmp(f"set_password vnc {MASK}"), ["password"]),
    (hmp(f"change vnc password {MASK}"), ["password"]),
    (hmp(f"object_add secret,id=s,data={MASK}"), ["data"]),
    (hmp(f"qom-set /objects/s data {MASK}"), ["value"]),
    (hmp(f"info {MASK}"), []),
    ({"execute": "query-status"}, []),
])
def test_masked_secrets_are_found_where_the_table_puts_secrets(
        request_: dict[str, object], names: list[str]) -> None:
    assert [s.name for s in masked_secrets(request_)] == names


def test_values_come_from_options_then_the_environment_then_a_question() -> None:
    asked: list[tuple[str, str | None]] = []

    def ask(name: str, where: str | None) -> str | None:
        asked.append((name, where))
        return "typed"

    secret = MaskedSecret("props.data", ("props", "data"))
    assert SecretSource({"props.data": "a"}, env={"QMPSHELL_SECRET_DATA": "b"},
                        ask=ask).value(secret, "f:1") == "a"
    assert SecretSource({"data": "c"}).value(secret, "f:1") == "c"
    assert SecretSource(env={"QMPSHELL_SECRET_PROPS_DATA": "d"}).value(secret, None) == "d"
    assert SecretSource(env={"QMPSHELL_SECRET_": "x"}, ask=ask).value(secret, "f:2") == "typed"
    assert asked == [("props.data", "f:2")]
    assert SecretSource().value(secret, None) is None


def test_unmask_fills_in_or_refuses() -> None:
    request = {"execute": "set_password", "arguments": {"protocol": "vnc", "password": MASK}}
    filled = unmask(request, SecretSource({"password": "pw"}), "f:3")
    assert filled["arguments"] == {"protocol": "vnc", "password": "pw"}
    assert request["arguments"]["password"] == MASK  # the request itself is left alone
    with pytest.raises(MaskedSecretError) as error:
        unmask(request, None, "f:3")
    assert str(error.value) == ("password is masked in this recording; give it with "
                                "--secret password=... or at the prompt")


@pytest.mark.parametrize(("line", "value", "sent"), [
    (f"set_password vnc {MASK}", "plain", "set_password vnc plain"),
    (f"set_password vnc {MASK} -d vnc0", 'two "words"',
     'set_password vnc "two \\"words\\"" -d vnc0'),
    (f"object_add secret,id=s,data={MASK}", "a,b", "object_add secret,id=s,data=a,,b"),
])
def test_hmp_lines_get_the_value_as_hmp_reads_it(line: str, value: str, sent: str) -> None:
    filled = unmask(hmp(line), SecretSource({"password": value, "data": value}), None)
    assert filled["arguments"] == {"command-line": sent}
