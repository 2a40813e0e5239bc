"""Read QEMU's QAPI schema sources with QEMU's own schema reader.

The documentation table (``tools/gen_qapi_docs.py``) and the guest-agent
table (``tools/gen_qga_table.py``) are both generated from a QEMU source
tree: ``qapi/*.json``, ``qga/qapi-schema.json`` and the reader that QEMU's
build uses for them, ``scripts/qapi/``.  Reading the doc comments with
QEMU's parser, not a copy of its rules, keeps the text exactly as QEMU's
own manual shows it.

Getting the source (QEMU 7.2, as Debian bookworm ships it)::

    make qemu-src          # or by hand:
    echo 'deb-src http://deb.debian.org/debian bookworm main' > /tmp/src.list
    apt-get -o Dir::Etc::SourceList=/tmp/src.list -o Dir::Etc::SourceParts=/dev/null update
    cd /tmp && apt-get -o Dir::Etc::SourceList=/tmp/src.list \\
        -o Dir::Etc::SourceParts=/dev/null source --download-only qemu
    mkdir -p .qemu-src && tar xJf /tmp/qemu_7.2+dfsg.orig.tar.xz -C .qemu-src \\
        --strip-components=1 qemu-7.2.0/qapi qemu-7.2.0/qga qemu-7.2.0/scripts \\
        qemu-7.2.0/VERSION

(or a checkout of https://gitlab.com/qemu-project/qemu at tag ``v7.2.0``).
The generators read ``--source DIR`` (default ``.qemu-src``, or ``$QEMU_SRC``).

Build time only: nothing here ships in the wheel.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "qmpshell" / "schema" / "data"
DEFAULT_SOURCE = ROOT / ".qemu-src"


class SourceMissing(Exception):
    """No QEMU source tree where one was looked for."""


def source_dir(given: str | Path | None = None) -> Path:
    """The QEMU source tree: ``given``, else ``$QEMU_SRC``, else ``.qemu-src``."""
    path = Path(given or os.environ.get("QEMU_SRC") or DEFAULT_SOURCE)
    if not (path / "scripts" / "qapi" / "schema.py").is_file():
        raise SourceMissing(f"{path}: no QEMU source tree here (scripts/qapi/schema.py "
                            "missing); see tools/qapi_source.py for how to get one")
    return path


def qemu_version(src: Path) -> str:
    return (src / "VERSION").read_text(encoding="utf-8").strip()


def load_schema(src: Path, main: str) -> Any:
    """QEMU's ``QAPISchema`` for ``src/main`` (e.g. ``qapi/qapi-schema.json``),
    read by QEMU's own ``scripts/qapi`` from that tree."""
    scripts = str(src / "scripts")
    if scripts not in sys.path:
        sys.path.insert(0, scripts)
    from qapi.schema import QAPISchema  # type: ignore[import-not-found]

    return QAPISchema(str(src / main))


def input_digest(src: Path, schema: Any) -> str:
    """A digest of every schema file read, for the staleness check."""
    digest = hashlib.sha256()
    base = Path(schema._schema_dir)
    for name in sorted(m for m in schema._module_dict if not m.startswith("./")):
        digest.update(name.encode())
        digest.update((base / name).read_bytes())
    return digest.hexdigest()[:16]


# -- doc comments -> plain data --------------------------------------------
def clean(text: str) -> str:
    """Doc text as a user reads it: QAPI's ``@name`` and ``*emphasis*`` marks
    and ``|`` literal-block bars removed, trailing blanks dropped."""
    text = re.sub(r"@([\w-]+)", r"\1", text)
    text = re.sub(r"(?<![\w*])\*([^*\n]+)\*(?![\w*])", r"\1", text)
    text = re.sub(r"^\| ?", "", text, flags=re.M)
    return "\n".join(line.rstrip() for line in text.strip().splitlines())


_SINCE = re.compile(r"\(?\s*[Ss]ince:?\s*(?:QEMU\s*)?(\d+\.\d+(?:\.\d+)?)\s*\)?\.?")


def entity_doc(doc: Any) -> dict[str, Any]:
    """A definition's doc comment as ``{"doc", "since", "returns", "notes",
    "examples"}`` (empty parts left out)."""
    entry: dict[str, Any] = {"doc": clean(doc.body.text)}
    notes: list[str] = []
    examples: list[dict[str, Any]] = []
    for section in doc.sections:
        name, text = section.name or "", section.text
        if name == "Since":
            entry["since"] = clean(text)
        elif name == "Returns":
            entry["returns"] = clean(text)
        elif name.startswith("Example"):
            examples.extend(read_examples(text))
        elif name.startswith("Note") or name == "":
            notes.append(clean(text))
    if notes:
        entry["notes"] = "\n\n".join(n for n in notes if n)
    if examples:
        entry["examples"] = examples
    if doc.features:
        entry["features"] = {k: clean(v.text) for k, v in doc.features.items()}
    return {k: v for k, v in entry.items() if v}


def member_text(text: str) -> dict[str, str]:
    """One argument's text, with its ``(since X.Y)`` lifted out."""
    words = clean(text)
    found = _SINCE.search(words)
    out = {"doc": words}
    if found:
        out["since"] = found.group(1)
    return out


def read_examples(text: str) -> list[dict[str, Any]]:
    """The ``->`` requests and ``<-`` replies of an Example section."""
    out: list[dict[str, Any]] = []
    current: list[str] = []
    direction = ""

    def flush() -> None:
        if not direction:
            return
        raw = "\n".join(current).strip()
        try:
            out.append({"direction": direction, "json": json.loads(raw)})
        except ValueError:
            out.append({"direction": direction, "text": raw})

    for line in text.splitlines():
        stripped = line.lstrip("| ").rstrip()
        if stripped.startswith(("->", "<-")):
            flush()
            direction, current = stripped[:2], [stripped[2:]]
        elif direction and stripped and not stripped.startswith("..."):
            current.append(stripped)
        else:
            flush()
            direction, current = "", []
    flush()
    return out


def owner_docs(schema: Any, type_name: str) -> Iterable[Any]:
    """The doc comments that may describe the members of ``type_name``: its
    own, or for QAPI's implicit types (``q_obj_CMD-arg``, ``q_obj_UNION-base``)
    the definition they were made for."""
    info = schema.lookup_type(type_name)
    if info is not None and info.doc is not None:
        yield info.doc
    found = re.fullmatch(r"q_obj_(.+)-(arg|base)", type_name)
    if found:
        owner = schema.lookup_entity(found.group(1))
        if owner is not None and owner.doc is not None:
            yield owner.doc


def members_docs(schema: Any, object_type: Any) -> dict[str, dict[str, str]]:
    """Every member of an object type (base, own and each union branch's,
    the first branch that names one winning) with its text."""
    if object_type is None:
        return {}
    out: dict[str, dict[str, str]] = {}
    members = list(object_type.members)
    variants = getattr(object_type, "variants", None)
    if variants is not None:
        for variant in variants.variants:
            members.extend(getattr(variant.type, "members", ()))
    for member in members:
        if member.name in out:
            continue
        for doc in owner_docs(schema, member.defined_in):
            section = doc.args.get(member.name)
            if section is not None and section.text.strip():
                out[member.name] = member_text(section.text)
                break
    return out


def condition(ifcond: Any) -> str:
    """A definition's build condition as text ('CONFIG_LINUX'), '' when none."""
    cond = getattr(ifcond, "ifcond", None)
    if not cond:
        return ""
    return json.dumps(cond) if not isinstance(cond, str) else cond


def dump(data: dict[str, Any]) -> str:
    """The data file's text: stable key order, one entry per line group."""
    return json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def generator_main(argv: Sequence[str] | None, *, prog: str, out: Path,
                   build: Callable[[Path], dict[str, Any]]) -> int:
    """The command line every table generator has: ``--write`` the table that
    ``build(source tree)`` makes, or ``--check`` it (exit 1 when stale)."""
    import argparse

    parser = argparse.ArgumentParser(prog=f"python -m {prog}",
                                     description=f"Generate or check {out.name}.")
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--write", action="store_true", help="write the table")
    action.add_argument("--check", action="store_true", help="exit 1 if the table is stale")
    parser.add_argument("--source", help="QEMU source tree (default $QEMU_SRC or .qemu-src)")
    parser.add_argument("--out", type=Path, default=out, help="table file")
    args = parser.parse_args(argv)
    try:
        wanted = dump(build(source_dir(args.source)))
    except SourceMissing as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if args.write:
        args.out.write_text(wanted, encoding="utf-8")
        return 0
    current = args.out.read_text(encoding="utf-8") if args.out.is_file() else ""
    if current != wanted:
        print(f"{args.out}: out of date; regenerate it with `make generate`", file=sys.stderr)
        return 1
    return 0
