"""Sizes, rates and durations as an operator reads them.

Binary units (KiB, MiB, GiB), as QEMU's own ``info`` commands and
``qemu-img`` print them, so ``256 MiB`` here is the ``256M`` typed on the
command line.  Pure functions of numbers.
"""

from __future__ import annotations

import math

_UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB")


def size(count: float) -> str:
    """``268435456`` -> ``256 MiB``; three significant digits at most
    (``1.5 GiB``, ``62.3 MiB``, ``512 B``)."""
    if not math.isfinite(count):
        return "?"
    sign = "-" if count < 0 else ""
    value = abs(float(count))
    unit = 0
    while value >= 1024 and unit < len(_UNITS) - 1:
        value /= 1024
        unit += 1
    if unit == 0:
        return f"{sign}{int(value)} B"
    return f"{sign}{_three_digits(value)} {_UNITS[unit]}"


def rate(bytes_per_second: float) -> str:
    """``65011712.0`` -> ``62 MiB/s``."""
    return f"{size(bytes_per_second)}/s"


def duration(seconds: float) -> str:
    """``4.13`` -> ``4.1 s``, ``75`` -> ``1 min 15 s``, ``7300`` -> ``2 h 02 min``."""
    if not math.isfinite(seconds) or seconds < 0:
        return "?"
    if seconds < 10:
        return f"{seconds:.1f} s"
    whole = int(round(seconds))
    if whole < 60:
        return f"{whole} s"
    minutes, secs = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def milliseconds(ms: float) -> str:
    """``38`` -> ``38 ms``; from a second on, as :func:`duration`."""
    if ms < 1000:
        return f"{int(round(ms))} ms"
    return duration(ms / 1000)


def percent(done: float, total: float) -> float:
    """How far ``done`` is of ``total``, 0-100 (0 when the total is unknown)."""
    if total <= 0:
        return 0.0
    return max(0.0, min(100.0, 100.0 * done / total))


def _three_digits(value: float) -> str:
    if value >= 100:
        return f"{value:.0f}"
    text = f"{value:.1f}" if value >= 10 else f"{value:.2f}"
    return text.rstrip("0").rstrip(".")
