"""The config file: values, exact messages for every kind of mistake, and
the command line winning over the file."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from qmpshell.cli.config import (
    CONFIG_KEYS,
    DEFAULTS,
    ConfigValues,
    Setting,
    apply_to_args,
    config_path,
    format_config,
    key_line,
    load_config,
    merge_settings,
    parse_config,
    style_problem,
)
from qmpshell.cli.options import build_parser

GOOD = """\
# my settings
address = "/run/vm1/qmp.sock"
pretty = false
color = "never"
style = "monokai"
keys = "vi"
history_size = 500
confirm = false
timeout = 2.5
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_config_path_follows_xdg_and_falls_back_to_home() -> None:
    home = Path("/home/u")
    assert config_path({}, home) == "/home/u/.config/qmpshell/config.toml"
    assert config_path({"XDG_CONFIG_HOME": "/cfg"}, home) == "/cfg/qmpshell/config.toml"
    assert config_path({"XDG_CONFIG_HOME": ""}, home) == "/home/u/.config/qmpshell/config.toml"
    # the XDG spec says relative paths are to be ignored
    assert config_path({"XDG_CONFIG_HOME": "rel"}, home) == "/home/u/.config/qmpshell/config.toml"


def test_every_key_read(tmp_path: Path) -> None:
    values, warnings = load_config(write(tmp_path, GOOD))
    assert warnings == []
    assert values == ConfigValues(address="/run/vm1/qmp.sock", pretty=False, color="never",
                                  style="monokai", keys="vi", history_size=500,
                                  confirm=False, timeout=2.5)


def test_missing_file_is_no_problem(tmp_path: Path) -> None:
    assert load_config(tmp_path / "nope.toml") == (ConfigValues(), [])


def test_integer_timeout_becomes_seconds() -> None:
    values, warnings = parse_config("timeout = 30\n", Path("c.toml"))
    assert warnings == []
    assert values.timeout == 30.0
    assert isinstance(values.timeout, float)


@pytest.mark.parametrize(("line", "message"), [
    ('timeout = "soon"', 'timeout: expected a number greater than 0, got "soon"'),
    ("timeout = 0", "timeout: expected a number greater than 0, got 0"),
    ("timeout = -1.5", "timeout: expected a number greater than 0, got -1.5"),
    ("timeout = true", "timeout: expected a number greater than 0, got true"),
    ('color = "blue"', 'color: expected "auto", "always" or "never", got "blue"'),
    ('keys = "vim"', 'keys: expected "emacs" or "vi", got "vim"'),
    ('pretty = "yes"', 'pretty: expected true or false, got "yes"'),
    ("confirm = 1", "confirm: expected true or false, got 1"),
    ("history_size = -1", "history_size: expected a whole number, 0 or more, got -1"),
    ("history_size = 1.5", "history_size: expected a whole number, 0 or more, got 1.5"),
    ("address = 4444", "address: expected a string, got 4444"),
    ('style = "monokia"', 'style: unknown pygments style "monokia" (did you mean "monokai"?)'),
    ("style = 3", "style: expected a string, got 3"),
    ("address = [1, 2]", "address: expected a string, got an array"),
    ('colour = "never"', 'unknown key "colour" (did you mean "color"?)'),
    ("history-size = 3", 'unknown key "history-size" (did you mean "history_size"?)'),
    ("zzz = 3", 'unknown key "zzz"'),
])
def test_bad_value_names_file_line_and_key(tmp_path: Path, line: str, message: str) -> None:
    fillers = {"address": '"/tmp/q.sock"', "confirm": "false", "keys": '"vi"'}
    key = line.split()[0]
    before, after = [k for k in fillers if k != key][:2]
    path = write(tmp_path, f"# comment\n{before} = {fillers[before]}\n\n{line}\n"
                           f"{after} = {fillers[after]}\n")
    values, warnings = load_config(path)
    assert warnings == [f"{path}:4: {message}"]
    # the other keys still count; the bad one keeps its default (None: not set)
    assert getattr(values, before) is not None
    assert getattr(values, after) is not None
    if key in CONFIG_KEYS:
        assert getattr(values, key) is None


def test_bad_key_keeps_its_default_in_the_merge(tmp_path: Path) -> None:
    values, _ = load_config(write(tmp_path, 'timeout = "soon"\ncolor = "never"\n'))
    merged = merge_settings(values, build_parser().parse_args([]))
    assert merged["timeout"] == Setting(None, "default")
    assert merged["color"] == Setting("never", "file")


def test_table_in_place_of_a_value(tmp_path: Path) -> None:
    path = write(tmp_path, "pretty = true\n\n[confirm]\nask = 1\n")
    values, warnings = load_config(path)
    assert warnings == [f"{path}:3: confirm: expected true or false, got a table"]
    assert values.pretty is True


def test_quoted_and_dotted_keys_are_found_on_their_line() -> None:
    text = 'a = 1\n"timeout" = 1\ncolor.x = 2\n  keys  =3\n'
    assert key_line(text, "timeout") == 2
    assert key_line(text, "color") == 3
    assert key_line(text, "keys") == 4
    assert key_line(text, "style") == 0
    # a key name inside another key's value is not its line
    assert key_line('address = "timeout = 3"\ntimeout = 4\n', "timeout") == 2


def test_syntax_error_names_line_and_ignores_the_whole_file(tmp_path: Path) -> None:
    path = write(tmp_path, 'color = "never"\ntimeout = = 3\n')
    values, warnings = load_config(path)
    assert values == ConfigValues()
    assert warnings == [f"{path}:2: invalid TOML: Invalid value (column 11); the file is ignored"]


def test_syntax_error_at_the_end(tmp_path: Path) -> None:
    path = write(tmp_path, 'color = "never"\naddress = "/tmp/x\n')
    values, warnings = load_config(path)
    assert values == ConfigValues()
    assert len(warnings) == 1
    assert warnings[0].startswith(f"{path}:2: invalid TOML: ")
    assert warnings[0].endswith("; the file is ignored")


def test_unreadable_and_binary_files(tmp_path: Path) -> None:
    directory = tmp_path / "config.toml"
    directory.mkdir()
    values, warnings = load_config(directory)
    assert values == ConfigValues()
    assert warnings == [f"{directory}: cannot read it: Is a directory; the file is ignored"]
    binary = tmp_path / "bin.toml"
    binary.write_bytes(b'style = "\xff"\n')
    values, warnings = load_config(binary)
    assert values == ConfigValues()
    assert warnings == [f"{binary}: not UTF-8 text (invalid start byte at byte 9); "
                        "the file is ignored"]


def test_style_problem() -> None:
    assert style_problem("monokai") is None
    assert style_problem("default") is None
    assert style_problem("no-such-style-at-all") == 'unknown pygments style "no-such-style-at-all"'


def test_the_default_style_exists() -> None:
    assert style_problem(DEFAULTS["style"]) is None


def test_defaults_cover_every_key() -> None:
    assert set(DEFAULTS) == set(CONFIG_KEYS)


def test_command_line_wins_over_the_file(tmp_path: Path) -> None:
    values, _ = load_config(write(tmp_path, GOOD))
    args = build_parser().parse_args(
        ["/tmp/other.sock", "--pretty", "--color", "always", "--style", "default",
         "--timeout", "9"])
    merged = merge_settings(values, args)
    assert merged == {
        "address": Setting("/tmp/other.sock", "command line"),
        "pretty": Setting(True, "command line"),
        "color": Setting("always", "command line"),
        "style": Setting("default", "command line"),
        "keys": Setting("vi", "file"),
        "history_size": Setting(500, "file"),
        "confirm": Setting(False, "file"),
        "timeout": Setting(9.0, "command line"),
        "format": Setting(None, "default"),
        "progress": Setting(None, "default"),
    }


def test_compact_on_the_command_line_beats_pretty_in_the_file() -> None:
    values = ConfigValues(pretty=True)
    merged = merge_settings(values, build_parser().parse_args(["--compact"]))
    assert merged["pretty"] == Setting(False, "command line")


def test_vi_and_yes_on_the_command_line() -> None:
    values = ConfigValues(keys="emacs", confirm=True)
    merged = merge_settings(values, build_parser().parse_args(["--vi", "-y"]))
    assert merged["keys"] == Setting("vi", "command line")
    assert merged["confirm"] == Setting(False, "command line")
    # absent flags say nothing: the file's values stand
    merged = merge_settings(values, build_parser().parse_args([]))
    assert merged["keys"] == Setting("emacs", "file")
    assert merged["confirm"] == Setting(True, "file")


def test_format_and_progress_from_the_file_and_the_command_line(tmp_path: Path) -> None:
    values, warnings = load_config(write(tmp_path, 'format = "json"\nprogress = false\n'))
    assert warnings == []
    merged = merge_settings(values, build_parser().parse_args([]))
    out = apply_to_args(build_parser().parse_args([]), merged)
    assert (out.format, out.progress) == ("json", False)
    merged = merge_settings(values, build_parser().parse_args(["--format", "table",
                                                               "--progress"]))
    assert merged["format"] == Setting("table", "command line")
    assert merged["progress"] == Setting(True, "command line")
    _, warnings = load_config(write(tmp_path, 'format = "yaml"\n'))
    assert warnings == [f'{tmp_path / "config.toml"}:1: format: expected "table" or "json", '
                        'got "yaml"']


def test_spawn_ignores_the_files_address() -> None:
    values = ConfigValues(address="/tmp/q.sock", timeout=3.0)
    merged = merge_settings(values, build_parser().parse_args(["--spawn"]))
    assert merged["address"] == Setting(None, "default")
    assert merged["timeout"] == Setting(3.0, "file")
    assert apply_to_args(build_parser().parse_args(["--spawn"]), merged).address is None


def test_nothing_anywhere_gives_the_defaults() -> None:
    merged = merge_settings(ConfigValues(), build_parser().parse_args([]))
    assert {k: s.value for k, s in merged.items()} == dict(DEFAULTS)
    assert {s.source for s in merged.values()} == {"default"}


def test_apply_to_args_fills_what_the_command_line_left_open() -> None:
    args = build_parser().parse_args(["-c", "query-status"])
    merged = merge_settings(ConfigValues(address="/tmp/q.sock", keys="vi", confirm=False,
                                         timeout=3.0, color="never"), args)
    out = apply_to_args(args, merged)
    assert (out.address, out.vi, out.yes, out.timeout, out.color, out.pretty, out.style) == \
        ("/tmp/q.sock", True, True, 3.0, "never", None, "default")
    assert out.commands == ["query-status"]
    assert getattr(args, "address", None) is None, "the original namespace is left alone"


def test_format_config_exact() -> None:
    merged = merge_settings(ConfigValues(address="/tmp/q.sock", timeout=30.0),
                            build_parser().parse_args(["--compact"]))
    assert format_config(merged, Path("/home/u/.config/qmpshell/config.toml")) == """\
# config file: /home/u/.config/qmpshell/config.toml
address = "/tmp/q.sock"  # file
pretty = false           # command line
color = "auto"           # default
style = "default"        # default
keys = "emacs"           # default
history_size = 10000     # default
confirm = true           # default
timeout = 30             # file
# format (not set)       # default: tables on a terminal, JSON otherwise
# progress (not set)     # default: at the prompt, and in scripts when stderr is a terminal
"""


def test_format_config_unset_values_and_round_trip(tmp_path: Path) -> None:
    merged = merge_settings(ConfigValues(), build_parser().parse_args([]))
    text = format_config(merged)
    assert "# address (not set)" in text
    assert "# default: give ADDRESS or --spawn" in text
    assert "# pretty (not set)" in text
    # what it prints is a valid config file giving the same values
    values, warnings = load_config(write(tmp_path, text))
    assert warnings == []
    again = merge_settings(values, build_parser().parse_args([]))
    assert {k: s.value for k, s in again.items()} == {k: s.value for k, s in merged.items()}
    assert tomllib.loads(text)["history_size"] == 10000
