"""The shell completions: generated from the parser, complete every option
and nothing else, and really work in bash (and zsh and fish when installed)."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import socket
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from qmpshell.cli.options import build_parser
from tools.completions_gen import OUTPUTS, read_options, render_all, stale_files

ROOT = Path(__file__).resolve().parents[2]
BASH = ROOT / OUTPUTS["bash"]
ZSH = ROOT / OUTPUTS["zsh"]
FISH = ROOT / OUTPUTS["fish"]


def parser_options() -> set[str]:
    return {s for a in build_parser()._actions for s in a.option_strings}


def value_options(kind: str) -> set[str]:
    return {s for o in read_options(build_parser()) if o.kind == kind for s in o.strings}


def need(shell: str) -> str:
    """The shell's path; skip this test (only) when it is not installed."""
    path = shutil.which(shell)
    if path is None:
        pytest.skip(f"{shell} is not installed here (apt-get install {shell}); "
                    f"the {shell} completion is not exercised")
    return path


# -- generated, in sync --------------------------------------------------------

def test_committed_files_are_what_the_generator_writes() -> None:
    assert stale_files(ROOT) == [], "run: python -m tools.completions_gen"


def test_check_mode_reports_a_stale_file(tmp_path: Path) -> None:
    for rel, text in render_all().items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    assert stale_files(tmp_path) == []
    (tmp_path / OUTPUTS["fish"]).write_text("# edited by hand\n")
    (tmp_path / OUTPUTS["man"]).unlink()
    assert stale_files(tmp_path) == [OUTPUTS["fish"], OUTPUTS["man"]]


def test_the_kinds_come_from_the_parser() -> None:
    assert value_options("file") == {"-f", "--file", "-l", "--logfile", "--record", "--schema",
                                     "--tls-ca", "--tls-cert", "--tls-key"}
    assert value_options("choice") == {"--color", "--format"}
    assert value_options("command") == {"-c", "--command"}
    assert value_options("free") == {"--domain", "--connect", "--secret", "--style",
                                     "--timeout"}


# -- every option, nothing stale: read back from each file --------------------

def bash_options(text: str) -> set[str]:
    match = re.search(r'if \[\[ \$cur == -\* \]\]; then\n\s+_qmpshell_words "([^"]+)"', text)
    assert match, "option list not found in the bash completion"
    return set(match.group(1).split())


def bash_case(text: str, marker: str) -> set[str]:
    """The options of the case branch whose body contains ``marker``."""
    match = re.search(r"^\s+([-|\w]+)\)\n\s+" + re.escape(marker), text, re.M)
    assert match, marker
    return set(match.group(1).split("|"))


def zsh_options(text: str) -> set[str]:
    return set(re.findall(r"^\s+'(?:\([^)]*\)|\*)?(--?[\w-]+)[+=]?\[", text, re.M))


def fish_options(text: str) -> set[str]:
    found = set()
    for line in text.splitlines():
        if line.startswith("complete -c qmpshell "):
            found |= {"-" + s for s in re.findall(r" -s (\w)\b", line)}
            found |= {"--" + s for s in re.findall(r" -l ([\w-]+)", line)}
    return found


def test_bash_has_every_option_and_no_other() -> None:
    text = BASH.read_text()
    assert bash_options(text) == parser_options()
    assert bash_case(text, "_qmpshell_files") == value_options("file")
    assert bash_case(text, '_qmpshell_words "auto always never"') == {"--color"}


def test_zsh_has_every_option_and_no_other() -> None:
    assert zsh_options(ZSH.read_text()) == parser_options()


def test_fish_has_every_option_and_no_other() -> None:
    assert fish_options(FISH.read_text()) == parser_options()


def test_readers_notice_a_new_option() -> None:
    """The checks above would fail if the parser grew an option the files lack."""
    parser = build_parser()
    parser.add_argument("--brand-new", action="store_true")
    files = render_all(parser)
    new = parser_options() | {"--brand-new"}
    assert bash_options(files[OUTPUTS["bash"]]) == new
    assert zsh_options(files[OUTPUTS["zsh"]]) == new
    assert fish_options(files[OUTPUTS["fish"]]) == new
    assert bash_options(BASH.read_text()) != new


# -- bash, for real ------------------------------------------------------------

def bash_complete(words: list[str], cwd: Path, path_prefix: Path | None = None) -> list[str]:
    """COMPREPLY of our completion function for the last word of ``words``."""
    script = (f"source {shlex.quote(str(BASH))}\n"
              f"COMP_WORDS=({' '.join(shlex.quote(w) for w in words)})\n"
              f"COMP_CWORD={len(words) - 1}\n"
              '_qmpshell\nprintf "%s\\n" "${COMPREPLY[@]}"\n')
    env = dict(os.environ)
    if path_prefix is not None:
        env["PATH"] = f"{path_prefix}:{env['PATH']}"
    result = subprocess.run([need("bash"), "--norc", "--noprofile", "-c", script], cwd=cwd,
                            env=env, capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    return [line for line in result.stdout.splitlines() if line]


@pytest.fixture
def workdir(tmp_path: Path) -> Iterator[Path]:
    """A directory with a UNIX socket, a plain file and a subdirectory."""
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(tmp_path / "vm1.qmp"))
    (tmp_path / "notes.txt").write_text("x")
    (tmp_path / "sub").mkdir()
    try:
        yield tmp_path
    finally:
        sock.close()


def test_bash_completes_options(workdir: Path) -> None:
    assert bash_complete(["qmpshell", "--col"], workdir) == ["--color"]
    assert bash_complete(["qmpshell", "--tls-c"], workdir) == ["--tls-ca", "--tls-cert"]
    assert set(bash_complete(["qmpshell", "-"], workdir)) == parser_options()


def test_bash_completes_color_values(workdir: Path) -> None:
    assert bash_complete(["qmpshell", "--color", ""], workdir) == ["auto", "always", "never"]
    assert bash_complete(["qmpshell", "--color", "a"], workdir) == ["auto", "always"]
    # bash splits --color=al at '=' (COMP_WORDBREAKS)
    assert bash_complete(["qmpshell", "--color", "=", "al"], workdir) == ["always"]
    assert bash_complete(["qmpshell", "--color", "="], workdir) == ["auto", "always", "never"]


def test_bash_address_offers_sockets_and_directories_only(workdir: Path) -> None:
    found = bash_complete(["qmpshell", ""], workdir)
    assert "vm1.qmp" in found
    assert "sub" in found
    assert "notes.txt" not in found
    assert bash_complete(["qmpshell", "-v", "vm"], workdir) == ["vm1.qmp"]
    assert bash_complete(["qmpshell", f"{workdir}/v"], workdir) == [f"{workdir}/vm1.qmp"]
    # HOST:PORT is left free
    assert bash_complete(["qmpshell", "localhost:44"], workdir) == []


def test_bash_address_finds_sockets_in_the_usual_places(tmp_path: Path) -> None:
    path = Path("/tmp") / f"qmpshell-test-{uuid.uuid4().hex[:8]}.sock"
    sock = socket.socket(socket.AF_UNIX)
    try:
        sock.bind(str(path))
        assert str(path) in bash_complete(["qmpshell", ""], tmp_path)
        assert bash_complete(["qmpshell", str(path)[:-6]], tmp_path) == [str(path)]
    finally:
        sock.close()
        path.unlink(missing_ok=True)


def test_bash_file_options_complete_any_file(workdir: Path) -> None:
    for option in sorted(value_options("file")):
        assert sorted(bash_complete(["qmpshell", option, ""], workdir)) == \
            ["notes.txt", "sub", "vm1.qmp"], option
    assert bash_complete(["qmpshell", "--record", "no"], workdir) == ["notes.txt"]


def test_bash_free_values_get_nothing(workdir: Path) -> None:
    assert bash_complete(["qmpshell", "--timeout", ""], workdir) == []
    assert bash_complete(["qmpshell", "--style", ""], workdir) == []


def test_bash_command_names_come_from_list_commands(workdir: Path, tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "qmpshell"
    fake.write_text('#!/bin/sh\n[ "$1" = --list-commands ] && printf "query-status\\n'
                    'query-block\\nquit\\n"\n')
    fake.chmod(0o755)
    assert bash_complete(["qmpshell", "-c", "query-"], workdir, bin_dir) == \
        ["query-status", "query-block"]
    assert bash_complete(["qmpshell", "--command", "q"], workdir, bin_dir) == \
        ["query-status", "query-block", "quit"]


def test_bash_after_double_dash_nothing_of_ours(workdir: Path) -> None:
    assert bash_complete(["qmpshell", "--spawn", "--", "--co"], workdir) == []
    assert bash_complete(["qmpshell", "--spawn", "--", "-machine", "no"], workdir) == \
        ["notes.txt"]


def test_bash_registers_the_function() -> None:
    script = f"source {shlex.quote(str(BASH))}; complete -p qmpshell"
    result = subprocess.run([need("bash"), "--norc", "-c", script], capture_output=True,
                            text=True, timeout=30)
    assert result.stdout.strip() == "complete -F _qmpshell qmpshell"


# -- zsh and fish, for real when installed -------------------------------------

ZPTY_SCRIPT = r"""
zmodload zsh/zpty
zpty z TERM=dumb zsh -f -i
zpty -w z 'PS1="%% "; LISTMAX=1000; fpath=($COMPDIR $fpath); autoload -U compinit; compinit -u -D; \
zstyle ":completion:*" format "<%d>"; print READY'
zpty -w -n z "qmpshell $TYPED"$'\t\t'
local out chunk
integer deadline=$(( SECONDS + 15 ))
while (( SECONDS < deadline )); do
  if zpty -r -t z chunk; then out+=$chunk; else sleep 0.05; fi
  [[ ${out#*READY} == *$EXPECT* ]] && break
done
print -r -- "${out#*READY}"
zpty -d z
"""


def zsh_complete(typed: str, expect: str, cwd: Path) -> str:
    """What zsh shows after typing ``qmpshell TYPED`` and Tab twice."""
    env = dict(os.environ, COMPDIR=str(ROOT / "completions"), TYPED=typed, EXPECT=expect)
    result = subprocess.run([need("zsh"), "-f", "-c", ZPTY_SCRIPT], cwd=cwd, env=env,
                            capture_output=True, text=True, timeout=60)
    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]|\r", "", result.stdout)


def test_zsh_syntax() -> None:
    result = subprocess.run([need("zsh"), "-n", str(ZSH)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_zsh_completes_options_values_and_sockets(workdir: Path) -> None:
    shown = zsh_complete("--color ", "never", workdir)
    assert re.search(r"always\s+auto\s+never", shown), shown
    shown = zsh_complete("--skip", "--skip-negotiation", workdir)
    assert "--skip-negotiation" in shown, shown
    shown = zsh_complete("-", "--yes", workdir)
    assert "HMP mode: lines go through human-monitor" in shown, shown  # cut at 80 columns
    shown = zsh_complete("", "vm1.qmp", workdir)
    assert "vm1.qmp" in shown and "notes.txt" not in shown, shown


def fish_complete(line: str, cwd: Path) -> list[str]:
    script = f"source {shlex.quote(str(FISH))}; complete -C {shlex.quote(line)}"
    result = subprocess.run([need("fish"), "--no-config", "-c", script], cwd=cwd,
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    return [row.split("\t")[0] for row in result.stdout.splitlines()]


def test_fish_syntax() -> None:
    result = subprocess.run([need("fish"), "--no-execute", str(FISH)], capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stderr


def test_fish_completes_options_values_files_and_sockets(workdir: Path) -> None:
    assert fish_complete("qmpshell --col", workdir) == ["--color"]
    assert fish_complete("qmpshell --color ", workdir) == ["always", "auto", "never"]
    assert fish_complete("qmpshell -f ", workdir) == ["notes.txt", "sub/", "vm1.qmp"]
    found = fish_complete("qmpshell ", workdir)
    # sockets elsewhere (the usual places, e.g. a QEMU under /tmp) may show up too
    assert "sub/" in found and "vm1.qmp" in found and "notes.txt" not in found
    assert all(Path(f).is_socket() for f in found if f.startswith("/")), found
    assert fish_complete("qmpshell vm", workdir) == ["vm1.qmp"]
    assert fish_complete("qmpshell --timeout ", workdir) == []
    assert fish_complete("qmpshell --spawn -- --co", workdir) == []
