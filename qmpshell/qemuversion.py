"""QEMU's version number as a server states it: one reader for the greeting,
the cache key, the banner, ``.vms`` and the wire's choice of framing, so that
they never disagree about a greeting that is odd or incomplete."""

from __future__ import annotations

from collections.abc import Mapping

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing
if TYPE_CHECKING:
    from typing import Any


def qemu_version(info: Mapping[str, Any] | None) -> tuple[int, int, int] | None:
    """``(major, minor, micro)`` from a greeting, its ``QMP`` member, or a
    ``version`` (``query-version``'s return value); None when no major
    number is stated.  A minor or micro number that is missing or not a
    number reads as 0."""
    if not isinstance(info, Mapping):
        return None
    qmp = info.get("QMP")
    if isinstance(qmp, Mapping):
        info = qmp
    version = info.get("version")
    if isinstance(version, Mapping):
        info = version
    qemu = info.get("qemu")
    if not isinstance(qemu, Mapping) or type(major := qemu.get("major")) is not int:
        return None
    minor, micro = (qemu.get(key) for key in ("minor", "micro"))
    return (major, minor if type(minor) is int else 0, micro if type(micro) is int else 0)


def version_text(info: Mapping[str, Any] | None, unknown: str = "") -> str:
    """``'7.2.0'``, or ``unknown`` when :func:`qemu_version` finds none."""
    number = qemu_version(info)
    return unknown if number is None else ".".join(map(str, number))
