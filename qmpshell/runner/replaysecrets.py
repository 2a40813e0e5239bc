"""Replaying a recording whose secrets are masked: the mask is never sent.

A recording writes ``set_password protocol=vnc password=********``; sent as
is, that would set the VNC password to eight asterisks.  Before a request
goes out, :func:`masked_secrets` finds every value that is the mask where
the masking table (:mod:`qmpshell.secrets`) puts a secret -- a QMP argument
at any depth, or a word of an HMP line -- and :func:`fill_secrets` puts the
real value there, taken from a :class:`SecretSource`: ``--secret NAME=VALUE``,
``--secret NAME=@FILE``, ``$QMPSHELL_SECRET_NAME``, or a question without
echo at a terminal.  With none of them the line fails and nothing is sent.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from qmpshell.errors import QmpShellError
from qmpshell.records import Record
from qmpshell.secrets import MASK, mask_hmp, mask_request

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing
if TYPE_CHECKING:
    from typing import Any

HMP_COMMAND = "human-monitor-command"
ENV_PREFIX = "QMPSHELL_SECRET_"
"""``QMPSHELL_SECRET_PASSWORD`` gives the secret named ``password``."""

_PROBE = "qmpshell-probe-0"
"""A stand-in for the mask, to ask the masking table whether a place is secret."""


class MaskedSecretError(QmpShellError):
    """A line whose secret is the recording's mask, and no value was given."""


class MaskedSecret(Record):
    """One masked secret of a request.

    ``path`` locates it: argument keys (and list indices) down to the value;
    for an HMP line, ``("command-line", N)``, the N-th mask in the line."""

    __slots__ = ("name", "path")

    name: str
    path: tuple[str | int, ...]

    def __init__(self, name: str, path: tuple[str | int, ...]) -> None:
        self.name = name
        self.path = path


def secret_key(name: str) -> str:
    """The form names are matched in: ``props.data`` and ``PROPS_DATA`` alike,
    the part after :data:`ENV_PREFIX` of an environment variable."""
    return re.sub(r"[^A-Za-z0-9]", "_", name).upper()


def masked_secrets(request: Mapping[str, Any]) -> list[MaskedSecret]:
    """Every place where ``request`` holds the mask and the masking table
    says a secret goes (a value that merely looks like the mask elsewhere is
    left alone)."""
    arguments = request.get("arguments")
    if not isinstance(arguments, dict):
        return []
    found: list[MaskedSecret] = []
    if request.get("execute") == HMP_COMMAND:
        line = arguments.get("command-line")
        if isinstance(line, str):
            found += [MaskedSecret(name, ("command-line", i))
                      for i, name in enumerate(hmp_masks(line)) if name]
        return found
    import copy  # only for a line with a mask in it: not on every start

    for path in _mask_paths(arguments):
        probe = copy.deepcopy(dict(request))
        _set(probe["arguments"], path, _PROBE)
        if _get(mask_request(probe)["arguments"], path) == MASK:
            found.append(MaskedSecret(_name(path), path))
    return found


def hmp_masks(line: str) -> list[str]:
    """For each mask in an HMP line, the secret's name ('password', 'data'),
    or '' where the table would not have put a secret."""
    names = []
    starts = [m.start() for m in re.finditer(re.escape(MASK), line)]
    for start in starts:
        probe = line[:start] + _PROBE + line[start + len(MASK):]
        names.append("" if _PROBE in mask_hmp(probe) else _hmp_name(line, start))
    return names


def _hmp_name(line: str, start: int) -> str:
    """``data`` for ``...,data=********``; else what the word is: the value
    of ``qom-set``, a password for the others (set_password, change vnc...)."""
    option = re.search(r"([\w.-]+)=$", line[:start])
    if option:
        return option.group(1)
    return "value" if line.split(maxsplit=1)[:1] == ["qom-set"] else "password"


def fill_secrets(request: dict[str, Any], values: Mapping[MaskedSecret, str]) -> dict[str, Any]:
    """A copy of ``request`` with each masked secret replaced by its value."""
    import copy

    filled = copy.deepcopy(request)
    hmp: dict[int, str] = {}
    for secret, value in values.items():
        if secret.path[:1] == ("command-line",) and isinstance(secret.path[1], int):
            hmp[secret.path[1]] = value
        else:
            _set(filled["arguments"], secret.path, value)
    if hmp:
        line = filled["arguments"]["command-line"]
        pieces = line.split(MASK)
        out = [pieces[0]]
        for i, piece in enumerate(pieces[1:]):
            given = hmp.get(i)
            out += [MASK if given is None else _hmp_word(given, option=out[-1].endswith("=")),
                    piece]
        filled["arguments"]["command-line"] = "".join(out)
    return filled


def _hmp_word(value: str, *, option: bool) -> str:
    """``value`` as HMP reads it back: commas doubled inside ``key=value,...``
    options; a word with blanks or quotes double-quoted, with escapes."""
    if option:
        return value.replace(",", ",,")
    if value and not re.search(r"[\s\"'\\]", value):
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _mask_paths(value: Any) -> list[tuple[str | int, ...]]:
    paths: list[tuple[str | int, ...]] = []
    stack: list[tuple[Any, tuple[str | int, ...]]] = [(value, ())]
    while stack:
        item, path = stack.pop()
        if isinstance(item, dict):
            stack.extend((v, (*path, k)) for k, v in item.items())
        elif isinstance(item, list):
            stack.extend((v, (*path, i)) for i, v in enumerate(item))
        elif item == MASK:
            paths.append(path)
    return sorted(paths, key=str)


def _name(path: tuple[str | int, ...]) -> str:
    """The dotted key path, list positions left out: ``props.data``."""
    return ".".join(str(p) for p in path if isinstance(p, str))


def _get(value: Any, path: tuple[str | int, ...]) -> Any:
    for part in path:
        value = value[part]
    return value


def _set(value: Any, path: tuple[str | int, ...], new: str) -> None:
    for part in path[:-1]:
        value = value[part]
    value[path[-1]] = new


# -- where the values come from ----------------------------------------------------
Ask = Callable[[str, "str | None"], "str | None"]
"""(secret name, where) -> the value typed without echo, None if not given."""


class SecretSource:
    """The values of masked secrets: given on the command line (by name), from
    the environment, or asked for at a terminal (each time, never kept)."""

    def __init__(self, given: Mapping[str, str] | None = None, *,
                 env: Mapping[str, str] | None = None, ask: Ask | None = None) -> None:
        self._given = {secret_key(k): v for k, v in (given or {}).items()}
        self._env = {secret_key(k[len(ENV_PREFIX):]): v for k, v in (env or {}).items()
                     if k.startswith(ENV_PREFIX) and len(k) > len(ENV_PREFIX)}
        self._once: dict[str, str] = {}
        self.ask = ask

    def known(self, secret: MaskedSecret) -> str | None:
        """The value given by ``--secret`` or the environment, by the secret's
        dotted name, else its last key (``data`` for ``props.data``)."""
        keys = [secret_key(secret.name), secret_key(secret.name.rpartition(".")[2])]
        for table in (self._given, self._env):
            for key in keys:
                if key in table:
                    return table[key]
        return None

    def value(self, secret: MaskedSecret, where: str | None) -> str | None:
        """The value for ``secret``: one typed for this line at the prompt,
        a known one, else asked for (when there is a terminal to ask at)."""
        typed = self._once.get(secret_key(secret.name))
        if typed is not None:
            return typed
        known = self.known(secret)
        if known is not None:
            return known
        return self.ask(secret.name, where) if self.ask is not None else None

    def give(self, secret: MaskedSecret, value: str) -> None:
        """A value typed at the prompt, for the line about to run only."""
        self._once[secret_key(secret.name)] = value

    def forget(self) -> None:
        """Drop the values typed for the line that ran."""
        self._once.clear()


def unmask(request: dict[str, Any], source: SecretSource | None,
           where: str | None) -> dict[str, Any]:
    """``request`` with its masked secrets filled in; MaskedSecretError naming
    the first one nobody gave (then nothing is sent)."""
    secrets = masked_secrets(request)
    if not secrets:
        return request
    values: dict[MaskedSecret, str] = {}
    for secret in secrets:
        value = source.value(secret, where) if source is not None else None
        if value is None:
            raise MaskedSecretError(
                f"{secret.name} is masked in this recording; give it with "
                f"--secret {secret.name}=... or at the prompt")
        values[secret] = value
    return fill_secrets(request, values)
