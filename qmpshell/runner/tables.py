"""Aligned tables for the replies operators read most.

``query-block`` as JSON is 40 lines per drive; the same as a table is one
row with the device, node, driver, size in human units, mode and file.
:func:`table_for` knows the commands worth a table and picks the columns
that matter; every other reply (and every error) stays JSON, and
``.format json`` / ``--format json`` gives exactly the JSON output.

Why no table library: the tables are a few columns of short text.  rich
15.0 was measured here (``python -X importtime``, warm bytecode, median of
six): ``rich.table`` 35 ms, ``rich.console`` 60 ms, ``rich.progress`` 73 ms,
against about 5 ms for this module and 13 ms for the progress lines with
their live drawing (:mod:`qmpshell.runner.watching`), both imported only
when a table or progress is shown.  prompt_toolkit may not be imported by
the runner (DESIGN.md), and plain strings keep the output testable as text
and readable in a pager or a log.

Pure: replies in, text out.  Cells are made safe for a terminal (control
characters a server sent are shown, never obeyed: :mod:`qmpshell.terminaltext`).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from qmpshell.runner import units
from qmpshell.terminaltext import visible_line

Getter = Callable[[Any], object]

BOLD, RESET = "\x1b[1m", "\x1b[0m"


@dataclass(frozen=True)
class Column:
    """One column: its header, how a row's cell is read, and its alignment."""

    header: str
    get: Getter
    right: bool = False
    optional: bool = False
    """Left out when no row has a value (an error column, when nothing failed)."""


@dataclass(frozen=True)
class ListView:
    """A reply that is a list of objects: one row each."""

    columns: tuple[Column, ...]
    empty: str


@dataclass(frozen=True)
class FieldView:
    """A reply that is one object: one ``name  value`` row per field present."""

    fields: tuple[tuple[str, Getter], ...]
    empty: str


def table_for(command: str, reply: Mapping[str, Any], *, color: bool = False) -> str | None:
    """The reply of ``command`` as a table, or None when it has no table view
    (unknown command, an error, an unexpected shape)."""
    if "return" not in reply:
        return None
    view = VIEWS.get(command)
    value = reply["return"]
    try:
        if isinstance(view, ListView) and isinstance(value, list):
            return render_list(view, value, color=color)
        if isinstance(view, FieldView) and isinstance(value, dict):
            return render_fields(view, value, color=color)
    except (TypeError, ValueError, AttributeError):
        return None  # an unexpected shape: the JSON says it better
    return None


def has_table(command: str) -> bool:
    """Whether ``command``'s replies are shown as tables."""
    return command in VIEWS


def render_list(view: ListView, rows: Sequence[Any], *, color: bool = False) -> str:
    objects = [row for row in rows if isinstance(row, dict)]
    if not objects:
        return view.empty
    values = [[column.get(row) for column in view.columns] for row in objects]
    keep = [i for i, column in enumerate(view.columns)
            if not column.optional or any(v[i] not in (None, "") for v in values)]
    return render_table([view.columns[i].header for i in keep],
                        [[_cell(v[i]) for i in keep] for v in values],
                        right=[view.columns[i].right for i in keep], color=color)


def render_fields(view: FieldView, value: Mapping[str, Any], *, color: bool = False) -> str:
    rows = []
    for name, get in view.fields:
        cell = get(value)
        if cell is not None and cell != "":
            rows.append([name, _cell(cell)])
    if not rows:
        return view.empty
    return render_table(None, rows, color=color)


def render_table(headers: Sequence[str] | None, rows: Sequence[Sequence[str]], *,
                 right: Sequence[bool] = (), color: bool = False) -> str:
    """Rows of cells, columns two spaces apart; ``right`` aligns numbers.
    Headers are bold when ``color``; trailing spaces are dropped."""
    table = ([list(headers)] if headers else []) + [list(r) for r in rows]
    count = max(len(r) for r in table)
    widths = [max(text_width(r[i]) for r in table if i < len(r)) for i in range(count)]
    lines = []
    for n, row in enumerate(table):
        parts = []
        for i, text in enumerate(row):
            pad = " " * (widths[i] - text_width(text))
            parts.append(pad + text if i < len(right) and right[i]
                         else text + pad)
        line = "  ".join(parts).rstrip()
        if n == 0 and headers and color:
            line = BOLD + line + RESET
        lines.append(line)
    return "\n".join(lines)


def text_width(text: str) -> int:
    """Columns ``text`` takes on a terminal (wide East Asian characters take two)."""
    if text.isascii():
        return len(text)
    return sum(0 if unicodedata.combining(ch) else
               2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


# -- cells ----------------------------------------------------------------------

def _cell(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return visible_line(str(value))


def dig(*path: str) -> Getter:
    """A getter for a nested member (None when any step is missing)."""
    def get(row: Any) -> object:
        for key in path:
            if not isinstance(row, dict):
                return None
            row = row.get(key)
        return row
    return get


def sized(*path: str) -> Getter:
    """A byte count in human units."""
    inner = dig(*path)

    def get(row: Any) -> object:
        value = inner(row)
        return units.size(value) if isinstance(value, (int, float)) and \
            not isinstance(value, bool) else None
    return get


def _mode(inserted: Any) -> object:
    if not isinstance(inserted, dict):
        return None
    return "ro" if inserted.get("ro") else "rw"


def _job_percent(done: str, total: str) -> Getter:
    def get(row: Any) -> object:
        d, t = row.get(done), row.get(total)
        if not isinstance(d, int) or not isinstance(t, int) or t <= 0:
            return None
        return f"{units.percent(d, t):.0f}%"
    return get


def _speed(row: Any) -> object:
    speed = row.get("speed")
    if not isinstance(speed, int):
        return None
    return units.rate(speed) if speed else "unlimited"


def _block_device(row: Any) -> object:
    return row.get("device") or row.get("qdev")


def _block_driver(row: Any) -> object:
    inserted = row.get("inserted")
    return inserted.get("drv") if isinstance(inserted, dict) else "(empty)"


def _cpu_place(row: Any) -> object:
    props = row.get("props")
    if not isinstance(props, dict):
        return None
    names = (("socket-id", "s"), ("die-id", "d"), ("core-id", "c"), ("thread-id", "t"))
    return " ".join(f"{short}{props[key]}" for key, short in names if key in props) or None


def _frontend(row: Any) -> object:
    value = row.get("frontend-open")
    return None if value is None else ("open" if value else "closed")


def _mbps_rate(row: Any) -> object:
    mbps = dig("ram", "mbps")(row)
    if not isinstance(mbps, (int, float)) or not mbps:
        return None
    return units.rate(mbps * 1e6 / 8)


def _ms(*path: str) -> Getter:
    inner = dig(*path)

    def get(row: Any) -> object:
        value = inner(row)
        return units.milliseconds(value) if isinstance(value, (int, float)) else None
    return get


def _dirty_rate(row: Any) -> object:
    pages = dig("ram", "dirty-pages-rate")(row)
    page = dig("ram", "page-size")(row)
    if not isinstance(pages, int) or not isinstance(page, int) or not pages:
        return None
    return units.rate(pages * page)


def _migrated(row: Any) -> object:
    total = dig("ram", "total")(row)
    remaining = dig("ram", "remaining")(row)
    if not isinstance(total, int) or not isinstance(remaining, int) or total <= 0:
        return None
    done = total - remaining
    return f"{units.percent(done, total):.0f}% ({units.size(done)} of {units.size(total)})"


_BLOCK_NODE = (
    Column("NODE", dig("node-name")),
    Column("DRIVER", dig("drv")),
    Column("SIZE", sized("image", "virtual-size"), right=True),
    Column("MODE", lambda row: "ro" if row.get("ro") else "rw"),
    Column("FILE", dig("file")),
)

VIEWS: dict[str, ListView | FieldView] = {
    "query-block": ListView((
        Column("DEVICE", _block_device),
        Column("NODE", dig("inserted", "node-name")),
        Column("DRIVER", _block_driver),
        Column("SIZE", sized("inserted", "image", "virtual-size"), right=True),
        Column("MODE", lambda row: _mode(row.get("inserted"))),
        Column("FILE", dig("inserted", "file")),
    ), "no block devices"),
    "query-named-block-nodes": ListView(_BLOCK_NODE, "no block nodes"),
    "query-jobs": ListView((
        Column("ID", dig("id")),
        Column("TYPE", dig("type")),
        Column("STATUS", dig("status")),
        Column("DONE", _job_percent("current-progress", "total-progress"), right=True),
        Column("COPIED", sized("current-progress"), right=True),
        Column("TOTAL", sized("total-progress"), right=True),
        Column("ERROR", dig("error"), optional=True),
    ), "no jobs"),
    "query-block-jobs": ListView((
        Column("ID", dig("device")),
        Column("TYPE", dig("type")),
        Column("STATUS", dig("status")),
        Column("DONE", _job_percent("offset", "len"), right=True),
        Column("COPIED", sized("offset"), right=True),
        Column("TOTAL", sized("len"), right=True),
        Column("SPEED", _speed, right=True),
        Column("ERROR", dig("error"), optional=True),
    ), "no block jobs"),
    "query-cpus-fast": ListView((
        Column("CPU", dig("cpu-index"), right=True),
        Column("PLACE", _cpu_place),
        Column("THREAD", dig("thread-id"), right=True),
        Column("TARGET", dig("target")),
        Column("QOM PATH", dig("qom-path")),
    ), "no CPUs"),
    "query-chardev": ListView((
        Column("LABEL", dig("label")),
        Column("FRONTEND", _frontend),
        Column("FILENAME", dig("filename")),
    ), "no character devices"),
    "qom-list": ListView((
        Column("NAME", dig("name")),
        Column("TYPE", dig("type")),
    ), "no properties"),
    "query-iothreads": ListView((
        Column("ID", dig("id")),
        Column("THREAD", dig("thread-id"), right=True),
        Column("POLL MAX", dig("poll-max-ns"), right=True),
    ), "no I/O threads"),
    "query-memdev": ListView((
        Column("ID", dig("id")),
        Column("SIZE", sized("size"), right=True),
        Column("POLICY", dig("policy")),
        Column("SHARE", dig("share")),
        Column("PREALLOC", dig("prealloc")),
    ), "no memory backends"),
    "query-migrate": FieldView((
        ("status", dig("status")),
        ("migrated", _migrated),
        ("transferred", sized("ram", "transferred")),
        ("remaining", sized("ram", "remaining")),
        ("rate", _mbps_rate),
        ("dirty rate", _dirty_rate),
        ("passes", dig("ram", "dirty-sync-count")),
        ("expected downtime", _ms("expected-downtime")),
        ("downtime", _ms("downtime")),
        ("time", _ms("total-time")),
        ("setup time", _ms("setup-time")),
        ("error", dig("error-desc")),
    ), "no migration"),
    "query-dump": FieldView((
        ("status", dig("status")),
        ("written", sized("completed")),
        ("total", sized("total")),
    ), "no dump"),
}
