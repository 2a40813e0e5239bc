"""Secrets never reach files in clear text."""

from qmpshell.secrets import MASK, is_secret_name, mask_line, mask_request


def test_secret_names() -> None:
    for name in ("password", "new-secret", "key-secret", "passphrase", "vnc-password"):
        assert is_secret_name(name)
    for name in ("device", "size", "protocol", "path"):
        assert not is_secret_name(name)


def test_mask_request_masks_nested_and_keeps_the_original() -> None:
    req = {"execute": "set_password",
           "arguments": {"protocol": "vnc", "password": "s3cret",
                         "opts": {"secret": "x", "id": "y"}}}
    masked = mask_request(req)
    assert masked["arguments"]["password"] == MASK
    assert masked["arguments"]["opts"] == {"secret": MASK, "id": "y"}
    assert masked["arguments"]["protocol"] == "vnc"
    assert req["arguments"]["password"] == "s3cret"


def test_mask_line_shorthand_and_json() -> None:
    assert mask_line("set_password protocol=vnc password=12345") == \
        f"set_password protocol=vnc password={MASK}"
    assert mask_line('change_vnc_password password="a b c" x=1') == \
        f"change_vnc_password password={MASK} x=1"
    line = '{"execute": "set_password", "arguments": {"password": "hunter2"}}'
    assert "hunter2" not in mask_line(line)
    assert mask_line("block_resize device=scratch size=1G") == \
        "block_resize device=scratch size=1G"


def test_the_data_of_a_secret_object_is_masked() -> None:
    req = {"execute": "object-add",
           "arguments": {"qom-type": "secret", "id": "sec0", "data": "letmein"}}
    assert mask_request(req)["arguments"]["data"] == MASK
    old = {"execute": "object-add",
           "arguments": {"qom-type": "secret", "id": "sec0", "props": {"data": "letmein"}}}
    assert mask_request(old)["arguments"]["props"]["data"] == MASK
    other = {"execute": "object-add",
             "arguments": {"qom-type": "memory-backend-ram", "id": "m", "data": "x"}}
    assert mask_request(other)["arguments"]["data"] == "x"
    assert mask_line("object-add qom-type=secret id=sec0 data=letmein") == \
        f"object-add qom-type=secret id=sec0 data={MASK}"
    assert "letmein" not in mask_line('object-add qom-type=secret id=s props.data="let me in"')
    raw = '{"execute": "object-add", "arguments": {"qom-type": "secret", "data": "letmein"}}'
    assert "letmein" not in mask_line(raw)
    assert mask_line("object-add qom-type=iothread id=x data=keep") == \
        "object-add qom-type=iothread id=x data=keep"
