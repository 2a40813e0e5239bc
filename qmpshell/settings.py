"""The one settings object, built once by ``cli`` and passed down.

Everything the parts need to know about the command line (and, later, the
config file) lives here, already resolved: colour is a yes/no, not 'auto';
pretty is a yes/no, not 'default'.  No other module looks at the
environment or at ``sys.argv``.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Mapping

from qmpshell.records import Record

DEFAULT_STYLE = "default"

_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.:-]*")


def split_named(spec: str) -> tuple[str | None, str]:
    """``NAME=ADDRESS`` → (NAME, ADDRESS); a plain address → (None, address).
    A ``=`` inside a path (``/run/a=b.sock``) is part of the address."""
    name, sep, address = spec.partition("=")
    if sep and address and "/" not in name and _NAME.fullmatch(name):
        return name, address
    return None, spec


class Settings(Record):
    """The effective options of one qmpshell run."""

    __slots__ = (
        "address", "addresses", "domains", "libvirt_uri", "commands", "file", "exit_on_error",
        "dry_run", "pretty", "verbose", "logfile", "hmp", "skip_negotiation", "record", "spawn",
        "qemu_args", "qemu_binary", "schema_file", "color", "style", "timeout", "vi", "yes",
        "tls_ca", "tls_cert", "tls_key", "history_size", "list_commands", "print_config",
        "show_secrets", "secret_args", "secret_values", "interactive", "debug", "format", "progress"
    )

    address: str | None
    """The first (or only) address, without its name."""
    addresses: tuple[tuple[str | None, str], ...]
    """Every address given, as (name or None, address)."""
    domains: tuple[str, ...]
    """--domain: libvirt guests by name or glob."""
    libvirt_uri: str | None
    commands: tuple[str, ...]
    file: str | None
    exit_on_error: bool
    dry_run: bool
    pretty: bool
    verbose: bool
    logfile: str | None
    hmp: bool
    skip_negotiation: bool
    """-N/--agent: the server is a guest agent (qemu-ga)."""
    record: str | None
    spawn: bool
    qemu_args: tuple[str, ...]
    qemu_binary: str
    schema_file: str | None
    color: bool
    style: str
    timeout: float | None
    vi: bool
    yes: bool
    tls_ca: str | None
    tls_cert: str | None
    tls_key: str | None
    history_size: int
    list_commands: bool
    print_config: bool
    show_secrets: bool
    secret_args: tuple[str, ...]
    """``--secret NAME=VALUE|NAME=@FILE`` as given."""
    secret_values: tuple[tuple[str, str], ...]
    """(name, value) of the ``--secret`` options, files read (by cli)."""
    """-v and -n print passwords as sent (for debugging one's own machine)."""
    interactive: bool
    """No -c/-f and stdin is a terminal: the prompt runs."""
    debug: bool
    """--debug or QMPSHELL_DEBUG: the shell's decisions logged to stderr."""
    format: str
    """``table``: replies that have a table view (query-block, query-jobs ...)
    are shown as tables; ``json``: every reply as JSON."""
    progress: bool | None
    """Live progress lines while a .wait waits for long work: True
    (--progress), False (--no-progress), None (on a terminal: the prompt, or
    stderr in scripts)."""

    def __init__(
        self,
        *,
        address: str | None = None,
        addresses: tuple[tuple[str | None, str], ...] = (),
        domains: tuple[str, ...] = (),
        libvirt_uri: str | None = None,
        commands: tuple[str, ...] = (),
        file: str | None = None,
        exit_on_error: bool = False,
        dry_run: bool = False,
        pretty: bool = False,
        verbose: bool = False,
        logfile: str | None = None,
        hmp: bool = False,
        skip_negotiation: bool = False,
        record: str | None = None,
        spawn: bool = False,
        qemu_args: tuple[str, ...] = (),
        qemu_binary: str = "qemu-system-x86_64",
        schema_file: str | None = None,
        color: bool = False,
        style: str = DEFAULT_STYLE,
        timeout: float | None = None,
        vi: bool = False,
        yes: bool = False,
        tls_ca: str | None = None,
        tls_cert: str | None = None,
        tls_key: str | None = None,
        history_size: int = 10000,
        list_commands: bool = False,
        print_config: bool = False,
        show_secrets: bool = False,
        secret_args: tuple[str, ...] = (),
        secret_values: tuple[tuple[str, str], ...] = (),
        interactive: bool = False,
        debug: bool = False,
        format: str = "json",
        progress: bool | None = None,
    ) -> None:
        self.address = address
        self.addresses = addresses
        self.domains = domains
        self.libvirt_uri = libvirt_uri
        self.commands = commands
        self.file = file
        self.exit_on_error = exit_on_error
        self.dry_run = dry_run
        self.pretty = pretty
        self.verbose = verbose
        self.logfile = logfile
        self.hmp = hmp
        self.skip_negotiation = skip_negotiation
        self.record = record
        self.spawn = spawn
        self.qemu_args = qemu_args
        self.qemu_binary = qemu_binary
        self.schema_file = schema_file
        self.color = color
        self.style = style
        self.timeout = timeout
        self.vi = vi
        self.yes = yes
        self.tls_ca = tls_ca
        self.tls_cert = tls_cert
        self.tls_key = tls_key
        self.history_size = history_size
        self.list_commands = list_commands
        self.print_config = print_config
        self.show_secrets = show_secrets
        self.secret_args = secret_args
        self.secret_values = secret_values
        self.interactive = interactive
        self.debug = debug
        self.format = format
        self.progress = progress

    def __repr__(self) -> str:
        """Every field but the secrets' values, which never reach a log."""
        shown = ", ".join(f"{name}={value!r}" for name, value in self._asdict().items()
                          if name not in ("secret_args", "secret_values"))
        return f"Settings({shown})"

    @property
    def agent(self) -> bool:
        """Guest-agent mode (-N, --agent)."""
        return self.skip_negotiation

    @property
    def tls(self) -> bool:
        return bool(self.tls_ca or self.tls_cert or self.tls_key)


def resolve_color(choice: str | None, env: Mapping[str, str], isatty: bool) -> bool:
    """--color auto|always|never, with NO_COLOR (https://no-color.org) honoured
    for 'auto' and TERM=dumb treated as no colour."""
    if choice == "always":
        return True
    if choice == "never":
        return False
    if env.get("NO_COLOR"):
        return False
    return isatty and env.get("TERM") != "dumb"


def settings_from_args(args: argparse.Namespace, qemu_args: list[str], *,
                       env: Mapping[str, str], stdin_tty: bool,
                       stdout_tty: bool, history_size: int = 10000) -> Settings:
    """Resolve the parsed command line against the terminal and environment."""
    interactive = not args.commands and args.file is None and stdin_tty and not (
        args.list_commands or args.print_config)
    pretty = args.pretty if args.pretty is not None else stdout_tty
    given = list(getattr(args, "addresses", None) or [])
    if not given and getattr(args, "address", None):
        given = [args.address]  # from the config file
    addresses = tuple(split_named(spec) for spec in given)
    return Settings(
        address=addresses[0][1] if addresses else None,
        addresses=addresses,
        domains=tuple(getattr(args, "domains", None) or ()),
        libvirt_uri=getattr(args, "libvirt_uri", None),
        commands=tuple(args.commands),
        file=args.file,
        exit_on_error=args.exit_on_error,
        dry_run=args.dry_run,
        pretty=pretty,
        verbose=args.verbose,
        logfile=args.logfile,
        hmp=args.hmp,
        skip_negotiation=args.skip_negotiation,
        record=args.record,
        spawn=args.spawn,
        qemu_args=tuple(qemu_args),
        qemu_binary=env.get("QEMU") or "qemu-system-x86_64",
        schema_file=args.schema,
        color=resolve_color(args.color, env, stdout_tty),
        style=args.style or DEFAULT_STYLE,
        timeout=args.timeout,
        vi=bool(args.vi),
        yes=bool(args.yes),
        tls_ca=args.tls_ca,
        tls_cert=args.tls_cert,
        tls_key=args.tls_key,
        history_size=history_size,
        list_commands=args.list_commands,
        print_config=args.print_config,
        show_secrets=bool(getattr(args, "show_secrets", False)),
        secret_args=tuple(getattr(args, "secrets", None) or ()),
        interactive=interactive,
        debug=bool(getattr(args, "debug", False))
        or env.get("QMPSHELL_DEBUG", "") not in ("", "0"),
        format=getattr(args, "format", None) or (
            "table" if stdout_tty and args.pretty is not False else "json"),
        progress=getattr(args, "progress", None),
    )
