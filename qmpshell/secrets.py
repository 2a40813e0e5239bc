"""Masking of secret argument values (passwords, secrets) for everything the
shell writes down: history, logs, recordings. The server still gets the
real value; only copies for people and files are masked."""

from __future__ import annotations

import re
from typing import Any

MASK = "********"

_SECRET_NAME = re.compile(r"pass(word|wd|phrase)?|secret|key-secret|passwd|token", re.I)


def is_secret_name(name: str) -> bool:
    """True for argument names that carry secrets ('password', 'new-secret'...)."""
    return bool(_SECRET_NAME.search(name))


def mask_value(value: Any) -> Any:
    """A copy of a JSON value with every secret-named member masked."""
    if isinstance(value, dict):
        return {k: (MASK if is_secret_name(str(k)) and not isinstance(v, (dict, list))
                    else mask_value(v))
                for k, v in value.items()}
    if isinstance(value, list):
        return [mask_value(v) for v in value]
    return value


def mask_request(request: dict[str, Any]) -> dict[str, Any]:
    """A copy of a QMP request (or any message) with secrets masked."""
    masked = mask_value(request)
    assert isinstance(masked, dict)
    return masked


_SECRET_WORD = re.compile(
    r"""(?P<key>(?:^|(?<=\s))[\w.-]*(?:pass(?:word|wd|phrase)?|secret|token)[\w.-]*=)
        (?P<value>"(?:[^"\\]|\\.)*"?|'[^']*'?|\S*)""",
    re.I | re.X,
)


def mask_line(line: str) -> str:
    """A shorthand or JSON line with secret values masked, for history files.

    Handles ``key=value`` words as well as ``"password": "..."`` in JSON."""
    masked = _SECRET_WORD.sub(lambda m: m.group("key") + MASK, line)
    return re.sub(
        r'("[\w.-]*(?:pass(?:word|wd|phrase)?|secret|token)[\w.-]*"\s*:\s*)"(?:[^"\\]|\\.)*"',
        lambda m: m.group(1) + f'"{MASK}"', masked, flags=re.I)
