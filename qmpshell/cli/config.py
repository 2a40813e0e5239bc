"""The configuration file: ``$XDG_CONFIG_HOME/qmpshell/config.toml``.

A flat TOML table; every key is optional::

    address = "/run/vm1/qmp.sock"   # used when no ADDRESS is given
    pretty = true                   # indented JSON; false for one line per message
    color = "auto"                  # auto, always or never
    style = "monokai"               # any pygments style
    keys = "vi"                     # emacs or vi
    history_size = 10000            # lines kept in the history file; 0 keeps none
    confirm = true                  # ask before commands that stop or destroy the VM
    timeout = 30                    # seconds to wait for a reply
    format = "table"                # replies such as query-block as tables (or "json")
    progress = true                 # live progress of jobs and migration while .wait waits

A mistake in the file never stops the shell: each bad key gives a one-line
warning naming the file, line and key, and that key keeps its default.
Command-line options win over the file.  Nothing here reads the
environment: the caller passes it in.
"""

from __future__ import annotations

import argparse
import json
import os
import re
from collections.abc import Callable, Iterable, Mapping
from types import MappingProxyType

from qmpshell.records import Record

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing
if TYPE_CHECKING:
    import tomllib
    from typing import Any

    from qmpshell.schema.cache import StrPath

COLOR_CHOICES = ("auto", "always", "never")
KEY_CHOICES = ("emacs", "vi")
FORMAT_CHOICES = ("table", "json")

DEFAULTS: Mapping[str, Any] = MappingProxyType({
    "address": None,        # none: ADDRESS or --spawn must say
    "pretty": None,         # none: pretty on a terminal, compact otherwise
    "color": "auto",
    "style": "default",
    "keys": "emacs",
    "history_size": 10000,
    "confirm": True,
    "timeout": None,        # none: wait as long as it takes
    "format": None,         # none: tables on a terminal, JSON otherwise
    "progress": None,       # none: at the prompt, and in scripts when stderr is a terminal
})
"""Each key's value when neither the file nor the command line sets it."""

SOURCES = ("default", "file", "command line")


class ConfigValues(Record):
    """The valid keys found in the file; ``None`` means 'not set there'."""

    __slots__ = (
        "address", "pretty", "color", "style", "keys", "history_size", "confirm", "timeout",
        "format", "progress"
    )

    address: str | None
    pretty: bool | None
    color: str | None
    style: str | None
    keys: str | None
    history_size: int | None
    confirm: bool | None
    timeout: float | None
    format: str | None
    progress: bool | None

    def __init__(
        self,
        *,
        address: str | None = None,
        pretty: bool | None = None,
        color: str | None = None,
        style: str | None = None,
        keys: str | None = None,
        history_size: int | None = None,
        confirm: bool | None = None,
        timeout: float | None = None,
        format: str | None = None,
        progress: bool | None = None,
    ) -> None:
        self.address = address
        self.pretty = pretty
        self.color = color
        self.style = style
        self.keys = keys
        self.history_size = history_size
        self.confirm = confirm
        self.timeout = timeout
        self.format = format
        self.progress = progress


CONFIG_KEYS: tuple[str, ...] = ConfigValues.__slots__


class Setting(Record):
    """One effective setting and where it came from (one of :data:`SOURCES`)."""

    __slots__ = ("value", "source")

    value: Any
    source: str

    def __init__(self, value: Any, source: str) -> None:
        self.value = value
        self.source = source


def config_path(env: Mapping[str, str], home: StrPath) -> str:
    """Where the file is: ``$XDG_CONFIG_HOME/qmpshell/config.toml``, else
    ``~/.config/qmpshell/config.toml`` (a relative XDG_CONFIG_HOME is ignored,
    as the XDG spec says)."""
    base = env.get("XDG_CONFIG_HOME", "")
    root = base if base and os.path.isabs(base) else os.path.join(home, ".config")
    return os.path.join(root, "qmpshell", "config.toml")


# -- checking values ---------------------------------------------------------

def _shown(value: Any) -> str:
    """A value as it was written in TOML, for 'got ...' in messages."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, str)):
        return json.dumps(value)
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    return str(value)


def style_problem(name: str) -> str | None:
    """Why ``name`` is not a pygments style, or None when it is one."""
    from pygments.styles import get_all_styles, get_style_by_name
    from pygments.util import ClassNotFound

    try:
        get_style_by_name(name)
    except ClassNotFound:
        near = suggest(name, get_all_styles(), limit=1)
        hint = f' (did you mean "{near[0]}"?)' if near else ""
        return f'unknown pygments style "{name}"{hint}'
    return None


def _check_str(value: Any) -> str | None:
    if not isinstance(value, str):
        return f"expected a string, got {_shown(value)}"
    return None


def _check_bool(value: Any) -> str | None:
    if not isinstance(value, bool):
        return f"expected true or false, got {_shown(value)}"
    return None


def _check_choice(choices: tuple[str, ...]) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        if value not in choices:
            quoted = [f'"{c}"' for c in choices]
            listed = ", ".join(quoted[:-1]) + " or " + quoted[-1]
            return f"expected {listed}, got {_shown(value)}"
        return None
    return check


def _check_style(value: Any) -> str | None:
    return _check_str(value) or style_problem(value)


def _check_count(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return f"expected a whole number, 0 or more, got {_shown(value)}"
    return None


def _check_seconds(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        return f"expected a number greater than 0, got {_shown(value)}"
    return None


_CHECKS: Mapping[str, Callable[[Any], str | None]] = MappingProxyType({
    "address": _check_str,
    "pretty": _check_bool,
    "color": _check_choice(COLOR_CHOICES),
    "style": _check_style,
    "keys": _check_choice(KEY_CHOICES),
    "history_size": _check_count,
    "confirm": _check_bool,
    "timeout": _check_seconds,
    "format": _check_choice(FORMAT_CHOICES),
    "progress": _check_bool,
})


# -- reading the file --------------------------------------------------------

def key_line(text: str, key: str) -> int:
    """The 1-based line where ``key`` is set in TOML ``text`` (0 if not found).

    tomllib gives no positions for values, so the key is looked up in the
    text: ``key =``, a quoted ``"key" =``, ``key.sub =`` or a ``[key]`` table."""
    name = re.escape(key)
    pattern = re.compile(
        rf"""^\s*(?:\[\s*)?(?:{name}|"{name}"|'{name}')\s*[.=\]]""")
    for number, line in enumerate(text.splitlines(), start=1):
        if pattern.match(line):
            return number
    return 0


def _syntax_error(path: StrPath, text: str, error: tomllib.TOMLDecodeError) -> str:
    message = str(error)
    line = 0
    at = re.search(r"\s*\(at line (\d+), column (\d+)\)$", message)
    if at:
        line = int(at.group(1))
        message = message[:at.start()] + f" (column {at.group(2)})"
    elif message.endswith("(at end of document)"):
        line = max(1, len(text.splitlines()))
        message = message.removesuffix(" (at end of document)") + " (at the end of the file)"
    where = f"{path}:{line}" if line else f"{path}"
    return f"{where}: invalid TOML: {message}; the file is ignored"


def suggest(word: str, candidates: Iterable[str], limit: int = 3) -> list[str]:
    """:func:`qmpshell.schema.model.suggest`, imported when a key is mistyped: the
    schema module is not needed to read a good file, and the first prompt
    shows before it is loaded."""
    from qmpshell.schema.model import suggest as close_matches

    return close_matches(word, candidates, limit)


def parse_config(text: str, path: StrPath) -> tuple[ConfigValues, list[str]]:
    """The settings in TOML ``text`` and a one-line warning per problem.

    ``path`` only names the file in the warnings."""
    import tomllib  # only when there is a file: it costs start-up time

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        return ConfigValues(), [_syntax_error(path, text, e)]
    except RecursionError:
        return ConfigValues(), [f"{path}: arrays or inline tables nested too deeply; "
                                "the file is ignored"]
    values: dict[str, Any] = {}
    warnings = []
    for key, value in data.items():
        where = f"{path}:{key_line(text, key)}"
        check = _CHECKS.get(key)
        if check is None:
            near = suggest(key, CONFIG_KEYS, limit=1)
            hint = f' (did you mean "{near[0]}"?)' if near else ""
            warnings.append(f'{where}: unknown key "{key}"{hint}')
            continue
        problem = check(value)
        if problem:
            warnings.append(f"{where}: {key}: {problem}")
            continue
        values[key] = float(value) if key == "timeout" else value
    return ConfigValues(**values), warnings


def load_config(path: StrPath) -> tuple[ConfigValues, list[str]]:
    """Read the file at ``path``: (valid settings, one-line warnings).

    A missing file is not a problem (no settings, no warnings); an unreadable
    one is a warning, and every key keeps its default."""
    try:
        with open(path, encoding="utf-8") as file:
            text = file.read()
    except FileNotFoundError:
        return ConfigValues(), []
    except UnicodeDecodeError as e:
        return ConfigValues(), [f"{path}: not UTF-8 text ({e.reason} at byte {e.start}); "
                                "the file is ignored"]
    except OSError as e:
        return ConfigValues(), [f"{path}: cannot read it: {e.strerror or e}; "
                                "the file is ignored"]
    return parse_config(text, path)


# -- merging with the command line -------------------------------------------

def _from_args(args: argparse.Namespace) -> dict[str, Any]:
    """The settings the command line gave (options left at None say nothing)."""
    given: dict[str, Any] = {
        "address": (getattr(args, "addresses", None) or [None])[0],
        "pretty": getattr(args, "pretty", None),
        "color": getattr(args, "color", None),
        "style": getattr(args, "style", None),
        "timeout": getattr(args, "timeout", None),
        "format": getattr(args, "format", None),
        "progress": getattr(args, "progress", None),
    }
    if getattr(args, "vi", None):
        given["keys"] = "vi"
    if getattr(args, "yes", None):
        given["confirm"] = False
    return {k: v for k, v in given.items() if v is not None}


def merge_settings(config: ConfigValues, args: argparse.Namespace) -> dict[str, Setting]:
    """Every config key's effective value and its source: the command line
    wins over the file, which wins over :data:`DEFAULTS`.

    ``args`` is the parsed command line (``build_parser().parse_args()``),
    whose overridable options default to None so that 'not given' shows.
    With ``--spawn`` the file's address does not apply: the shell connects
    to the QEMU it starts, nor with ``--domain``: to the libvirt guests."""
    from_args = _from_args(args)
    ignored = ({"address"} if getattr(args, "spawn", False) or getattr(args, "domains", None)
               else set())
    merged = {}
    for key in CONFIG_KEYS:
        if key in from_args:
            merged[key] = Setting(from_args[key], "command line")
        elif getattr(config, key) is not None and key not in ignored:
            merged[key] = Setting(getattr(config, key), "file")
        else:
            merged[key] = Setting(DEFAULTS[key], "default")
    return merged


def apply_to_args(args: argparse.Namespace,
                  merged: Mapping[str, Setting]) -> argparse.Namespace:
    """A copy of ``args`` with the merged settings filled in, so code that
    reads the command line (``settings_from_args``) sees the file's values
    too.  ``history_size`` has no option: read it from ``merged``."""
    out = argparse.Namespace(**vars(args))
    out.address = merged["address"].value
    out.pretty = merged["pretty"].value
    out.color = merged["color"].value
    out.style = merged["style"].value
    out.timeout = merged["timeout"].value
    out.format = merged["format"].value
    out.progress = merged["progress"].value
    out.vi = merged["keys"].value == "vi"
    out.yes = not merged["confirm"].value
    return out


# -- printing ------------------------------------------------------------------

def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return json.dumps(value)


_UNSET_MEANS = MappingProxyType({
    "address": "give ADDRESS or --spawn",
    "pretty": "pretty on a terminal, compact otherwise",
    "timeout": "no limit",
    "format": "tables on a terminal, JSON otherwise",
    "progress": "at the prompt, and in scripts when stderr is a terminal",
})


def format_config(effective: Mapping[str, Setting], path: StrPath | None = None) -> str:
    """The effective settings as TOML (pasteable into the config file), each
    with a comment saying where it came from: default, file or command line."""
    lines = []
    if path is not None:
        lines.append(f"# config file: {path}")
    rows = []
    for key, setting in effective.items():
        if setting.value is None:
            rows.append((f"# {key} (not set)",
                         f"{setting.source}: {_UNSET_MEANS.get(key, 'not set')}"))
        else:
            rows.append((f"{key} = {_toml_value(setting.value)}", setting.source))
    width = max((len(left) for left, _ in rows), default=0)
    lines += [f"{left.ljust(width)}  # {right}".rstrip() for left, right in rows]
    return "\n".join(lines) + "\n"
