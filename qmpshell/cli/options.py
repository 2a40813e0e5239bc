"""The command-line parser: the contract in the README and the man page.

Kept apart from ``cli`` so that the shell completions and their tests can
read every option without running anything.
"""

from __future__ import annotations

import argparse
import os
import sys

from qmpshell import __version__

EPILOG = """\
examples:
  qmpshell /tmp/qmp.sock                      open the prompt on a UNIX socket
  qmpshell localhost:4444                     ... or on a TCP address
  qmpshell src=/run/src.sock dst=/run/dst.sock   two VMs: @src, @dst, @all address lines
  qmpshell --domain web1                      a libvirt guest (--connect URI as in virsh)
  qmpshell --spawn                            start a throwaway QEMU and connect
  qmpshell --spawn -- -machine q35 -m 512     ... with your own QEMU arguments
  qmpshell SOCK -c 'block_resize device=scratch size=1G' -c query-block
  qmpshell SOCK -f session.qmp -e             replay a session file, stop at the first error
  qmpshell -n -c 'block_resize device=d size=1G'   print the request, send nothing

exit status: 0 all lines succeeded, 1 a line failed, 2 bad usage,
3 could not connect or the connection was lost.
"""


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """argparse's, sized without importing shutil: argparse makes one of these
    for every option it is given, and that import alone was a noticeable part
    of a scripted run's start-up."""

    def __init__(self, prog: str, indent_increment: int = 2, max_help_position: int = 24,
                 width: int | None = None) -> None:
        if width is None:
            width = terminal_columns() - 2
        super().__init__(prog, indent_increment, max_help_position, width)


def terminal_columns() -> int:
    """What ``shutil.get_terminal_size().columns`` says: $COLUMNS, the
    terminal's width, or 80."""
    try:
        columns = int(os.environ.get("COLUMNS", "0"))
    except ValueError:
        columns = 0
    if columns > 0:
        return columns
    stdout = sys.__stdout__
    try:
        return os.get_terminal_size(stdout.fileno()).columns or 80 if stdout else 80
    except (AttributeError, ValueError, OSError):
        return 80


def build_parser() -> argparse.ArgumentParser:
    """The argparse parser for ``qmpshell``."""
    p = argparse.ArgumentParser(
        prog="qmpshell",
        description="An interactive shell for the QEMU Machine Protocol (QMP): "
        "typed key=value commands, completion, help, live events, scripted replay.",
        epilog=EPILOG,
        formatter_class=HelpFormatter,
    )
    p.add_argument("addresses", nargs="*", metavar="[NAME=]ADDRESS",
                   help="UNIX socket path, or HOST:PORT; several for several VMs, each "
                   "named by NAME= or by its socket's file name")
    p.add_argument("-c", "--command", dest="commands", action="append", default=[],
                   metavar="LINE", help="run LINE, then exit (repeatable, in order)")
    p.add_argument("-f", "--file", dest="file", metavar="FILE",
                   help="run a session file, then exit ('-' is stdin)")
    p.add_argument("-e", "--exit-on-error", action="store_true",
                   help="stop at the first failing line")
    p.add_argument("-n", "--dry-run", action="store_true",
                   help="no server: print the request each line would send")
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("-p", "--pretty", dest="pretty", action="store_true", default=None,
                     help="indented JSON (default on a terminal)")
    fmt.add_argument("--compact", dest="pretty", action="store_false",
                     help="one line per message (default when not on a terminal)")
    p.add_argument("--format", choices=("table", "json"), default=None,
                   help="replies such as query-block and query-jobs as aligned tables, "
                   "or every reply as JSON (default: table on a terminal unless --compact, "
                   "json otherwise)")
    prog = p.add_mutually_exclusive_group()
    prog.add_argument("--progress", dest="progress", action="store_true", default=None,
                      help="live progress of jobs and migration while .wait waits, on "
                      "stderr (default: when stderr is a terminal)")
    prog.add_argument("--no-progress", dest="progress", action="store_false",
                      help="no progress lines")
    p.add_argument("-v", "--verbose", action="store_true",
                   help="also print each request before its reply")
    p.add_argument("--show-secrets", action="store_true",
                   help="let -v and -n print passwords and secret data as sent "
                   "(masked by default; history, logs and recordings stay masked)")
    p.add_argument("--secret", dest="secrets", action="append", default=[],
                   metavar="NAME=VALUE",
                   help="the value of a secret a recording masks as ******** (password=..., "
                   "or NAME=@FILE to read it from FILE; repeatable); also from "
                   "$QMPSHELL_SECRET_NAME, else asked for at a terminal")
    p.add_argument("-l", "--logfile", metavar="FILE",
                   help="append every message sent and received (JSON lines)")
    p.add_argument("-H", "--hmp", action="store_true",
                   help="HMP mode: lines go through human-monitor-command")
    p.add_argument("-N", "--agent", "--skip-negotiation", dest="skip_negotiation",
                   action="store_true",
                   help="guest-agent mode: ADDRESS is a qemu-ga socket (no greeting; "
                   "commands from the agent's own table)")
    p.add_argument("--record", metavar="FILE",
                   help="append each executed line to FILE, replayable with -f")
    p.add_argument("--spawn", action="store_true",
                   help="start QEMU ($QEMU or qemu-system-x86_64) with a private QMP "
                   "socket and connect; arguments after -- go to QEMU")
    p.add_argument("--domain", dest="domains", action="append", default=[], metavar="NAME",
                   help="a libvirt guest by name, or a glob of running ones (repeatable; "
                   "needs pip install 'qmpshell[libvirt]')")
    p.add_argument("--connect", dest="libvirt_uri", metavar="URI",
                   help="the libvirt URI for --domain, as in virsh (default "
                   "$LIBVIRT_DEFAULT_URI, else libvirt's own)")
    p.add_argument("--schema", metavar="FILE",
                   help="a spec file or a saved query-qmp-schema reply to use")
    p.add_argument("--color", choices=("auto", "always", "never"), default=None,
                   help="colour output (default auto; NO_COLOR is honoured)")
    p.add_argument("--style", metavar="NAME",
                   help="pygments style for highlighting (e.g. monokai, default)")
    p.add_argument("--timeout", type=float, metavar="SECONDS",
                   help="give up waiting for a reply after SECONDS (scripts: 60 by "
                        "default; 0: wait without end)")
    p.add_argument("--vi", action="store_true", default=None,
                   help="vi key bindings at the prompt (default emacs)")
    p.add_argument("-y", "--yes", action="store_true", default=None,
                   help="never ask before commands that stop or destroy the VM")
    p.add_argument("--tls-ca", metavar="FILE", help="CA certificate for a TLS connection")
    p.add_argument("--tls-cert", metavar="FILE", help="client certificate for TLS")
    p.add_argument("--tls-key", metavar="FILE", help="client key for TLS")
    p.add_argument("--list-commands", action="store_true",
                   help="print the command names (from the server when ADDRESS is "
                   "given, else the bundled table) and exit")
    p.add_argument("--print-config", action="store_true",
                   help="print the effective settings and exit")
    p.add_argument("--debug", action="store_true",
                   help="log the shell's own decisions to stderr (schema chosen, cache, "
                   "confirmations, reconnects), for bug reports; also QMPSHELL_DEBUG=1")
    p.add_argument("-V", "--version", action="version", version=f"qmpshell {__version__}")
    return p


def split_qemu_args(argv: list[str]) -> tuple[list[str], list[str]]:
    """Split ``argv`` at the first ``--``: (our arguments, QEMU's arguments)."""
    if "--" in argv:
        i = argv.index("--")
        return argv[:i], argv[i + 1:]
    return argv, []
