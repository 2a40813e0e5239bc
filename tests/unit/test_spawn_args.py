"""--spawn with the user's own QEMU arguments: -display none when they
choose no display and the machine has none to open."""

from qmpshell.wire.spawn import headless_default


def test_no_display_anywhere_adds_display_none() -> None:
    assert headless_default(["-machine", "none"], {}) == ("-machine", "none", "-display", "none")


def test_a_display_choice_or_a_display_to_open_is_left_alone() -> None:
    for args in (["-display", "gtk"], ["-nographic"], ["-vnc", ":1"], ["--spice", "port=5900"],
                 ["-display=curses"]):
        assert headless_default(args, {}) == tuple(args)
    assert headless_default(["-m", "64"], {"DISPLAY": ":0"}) == ("-m", "64")
    assert headless_default(["-m", "64"], {"WAYLAND_DISPLAY": "wayland-0"}) == ("-m", "64")
    assert headless_default([], {}) == ()  # the defaults are headless already
