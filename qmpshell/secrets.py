"""Masking of secret argument values (passwords, secrets) for everything the
shell writes down: history, logs, recordings. The server still gets the
real value; only copies for people and files are masked."""

from __future__ import annotations

import re
from typing import Any

MASK = "********"

# The patterns are compiled on first use (by re's own cache), not at import:
# every start imports this module, few starts mask anything.
_SECRET_NAME = r"pass(word|wd|phrase)?|secret|key-secret|passwd|token"


def is_secret_name(name: str) -> bool:
    """True for argument names that carry secrets ('password', 'new-secret'...)."""
    return bool(re.search(_SECRET_NAME, name, re.I))


_SECRET_OBJECTS = ("secret", "secret_keyring")
"""QOM types whose ``data`` member is the secret itself (object-add)."""


def _is_secret_object(value: dict[str, Any]) -> bool:
    return value.get("qom-type") in _SECRET_OBJECTS


def mask_value(value: Any, *, data_is_secret: bool = False) -> Any:
    """A copy of a JSON value with every secret-named member masked, and the
    ``data`` of a ``secret`` object (``object-add qom-type=secret data=...``)."""
    if isinstance(value, dict):
        secret_data = data_is_secret or _is_secret_object(value)
        return {k: (MASK if (is_secret_name(str(k)) or (secret_data and k == "data"))
                    and not isinstance(v, (dict, list))
                    else mask_value(v, data_is_secret=secret_data and k == "props"))
                for k, v in value.items()}
    if isinstance(value, list):
        return [mask_value(v) for v in value]
    return value


def mask_request(request: dict[str, Any]) -> dict[str, Any]:
    """A copy of a QMP request (or any message) with secrets masked."""
    masked = mask_value(request)
    assert isinstance(masked, dict)
    return masked


_SECRET_WORD = r"""(?P<key>(?:^|(?<=\s))[\w.-]*(?:pass(?:word|wd|phrase)?|secret|token)[\w.-]*=)
        (?P<value>"(?:[^"\\]|\\.)*"?|'[^']*'?|\S*)"""


_SECRET_OBJECT_WORD = (
    r"""(?:^|\s)qom-type=["']?secret(?:_keyring)?\b|"qom-type"\s*:\s*"secret(?:_keyring)?\"""")
_DATA_WORD = (
    r"""(?P<key>(?:^|(?<=\s))(?:props\.)?data=)(?P<value>"(?:[^"\\]|\\.)*"?|'[^']*'?|\S*)""")
_DATA_JSON = r'("data"\s*:\s*)"(?:[^"\\]|\\.)*"'


def mask_line(line: str) -> str:
    """A shorthand or JSON line with secret values masked, for history files.

    Handles ``key=value`` words as well as ``"password": "..."`` in JSON."""
    masked = re.sub(_SECRET_WORD, lambda m: m.group("key") + MASK, line, flags=re.I | re.X)
    if re.search(_SECRET_OBJECT_WORD, masked):
        masked = re.sub(_DATA_WORD, lambda m: m.group("key") + MASK, masked)
    masked = re.sub(
        r'("[\w.-]*(?:pass(?:word|wd|phrase)?|secret|token)[\w.-]*"\s*:\s*)"(?:[^"\\]|\\.)*"',
        lambda m: m.group(1) + f'"{MASK}"', masked, flags=re.I)
    if re.search(_SECRET_OBJECT_WORD, masked):
        masked = re.sub(_DATA_JSON, lambda m: m.group(1) + f'"{MASK}"', masked)
    return masked
