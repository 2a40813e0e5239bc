"""A recording's masked secrets are never sent: a replay takes them from
--secret, the environment or a question without echo at a terminal, and
fails the line otherwise.  What QEMU received is read from its own trace of
every QMP request (``-trace handle_qmp_command``)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

pexpect = pytest.importorskip("pexpect")

from conftest import isolated_env  # noqa: E402
from helpers.fake_server import FakeQMP  # noqa: E402
from helpers.qemu_process import QemuProcess  # noqa: E402

from qmpshell.secrets import MASK  # noqa: E402

QMPSHELL = Path(sys.executable).parent / "qmpshell"
DEADLINE = 20


def masked_message(path: Path, line: int, name: str = "password") -> str:
    return (f"{path}:{line}: error: {name} is masked in this recording; give it with "
            f"--secret {name}=... or at the prompt")


def run(home: Path, *args: str, env: dict[str, str] | None = None,
        ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(QMPSHELL), *args], env={**isolated_env(home), **(env or {})},
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)


@pytest.fixture
def vnc_qemu(start_qemu: Callable[..., QemuProcess], tmp_path: Path) -> QemuProcess:
    """A QEMU with a password-protected VNC server (so set_password works) that
    traces every QMP request it receives to its log."""
    return start_qemu("vnc", args=["-vnc", f"unix:{tmp_path}/vnc.sock,password=on",
                                   "-trace", "handle_qmp_command"])


def received(q: QemuProcess) -> list[str]:
    """The requests QEMU traced, as it read them."""
    return [line.split(" req: ", 1)[1] for line in q.log_path.read_text().splitlines()
            if line.startswith("handle_qmp_command") and " req: " in line]


def test_a_recorded_vnc_password_replays_only_with_the_secret_given(
        vnc_qemu: QemuProcess, home: Path, tmp_path: Path) -> None:
    recording = tmp_path / "vnc.qmp"
    sock = str(vnc_qemu.socket_path)
    first = run(home, sock, "--record", str(recording), "-c", "query-status",
                "-c", "set_password protocol=vnc password=Orig-1",
                "-c", ".hmp set_password vnc Orig-2", "-c", "query-vnc")
    assert first.returncode == 0, first.stderr
    lines = recording.read_text().splitlines()
    assert "--secret NAME=VALUE" in lines[1] and "$QMPSHELL_SECRET_NAME" in lines[1]
    assert lines[2:] == ["query-status", f"set_password protocol=vnc password={MASK}",
                         f".hmp set_password vnc {MASK}", "query-vnc"]

    before = len(received(vnc_qemu))
    refused = run(home, sock, "-f", str(recording))
    assert refused.returncode == 1
    assert refused.stderr.splitlines() == [masked_message(recording, 4),
                                           masked_message(recording, 5)]
    sent = received(vnc_qemu)[before:]
    assert [s for s in sent if "set_password" in s] == []
    assert not any(MASK in s for s in received(vnc_qemu))

    before = len(received(vnc_qemu))
    given = run(home, sock, "-f", str(recording), "--secret", "password=New-3", "--compact")
    assert given.returncode == 0, given.stderr
    assert given.stdout.splitlines()[1] == '{"return": {}}'
    sent = [s for s in received(vnc_qemu)[before:] if "set_password" in s]
    assert len(sent) == 2
    assert '"password": "New-3"' in sent[0] and "set_password vnc New-3" in sent[1]

    secret_file = tmp_path / "vnc.secret"
    secret_file.write_text("From-File\n")
    before = len(received(vnc_qemu))
    from_file = run(home, sock, "-f", str(recording), "--secret", f"password=@{secret_file}")
    assert from_file.returncode == 0, from_file.stderr
    from_env = run(home, sock, "-f", str(recording), env={"QMPSHELL_SECRET_PASSWORD": "Env-4"})
    assert from_env.returncode == 0, from_env.stderr
    sent = [s for s in received(vnc_qemu)[before:] if "set_password" in s]
    assert ['"password": "From-File"' in s or "vnc From-File" in s for s in sent[:2]] == \
        [True, True]
    assert ['"password": "Env-4"' in s or "vnc Env-4" in s for s in sent[2:]] == [True, True]
    assert not any(MASK in s for s in received(vnc_qemu))


def test_hmp_mode_lines_with_a_masked_password(vnc_qemu: QemuProcess, home: Path,
                                               tmp_path: Path) -> None:
    session = tmp_path / "hmp.qmp"
    session.write_text(f"info status\nset_password vnc {MASK}\nchange vnc password {MASK}\n")
    refused = run(home, "-H", str(vnc_qemu.socket_path), "-f", str(session))
    assert refused.returncode == 1
    assert refused.stderr.splitlines() == [masked_message(session, 2),
                                           masked_message(session, 3)]
    given = run(home, "-H", str(vnc_qemu.socket_path), "-f", str(session),
                "--secret", "password=two words")
    assert given.returncode == 0, given.stderr
    sent = [s for s in received(vnc_qemu) if "password" in s]
    assert [s for s in sent if MASK in s] == []
    assert any('set_password vnc \\"two words\\"' in s for s in sent)


def test_a_replay_at_a_terminal_asks_without_echo(vnc_qemu: QemuProcess, home: Path,
                                                  tmp_path: Path) -> None:
    recording = tmp_path / "vnc.qmp"
    recording.write_text(f"query-status\nset_password protocol=vnc password={MASK}\n"
                         ".echo replayed\n")
    child = pexpect.spawn(str(QMPSHELL), [str(vnc_qemu.socket_path), "-f", str(recording),
                                          "--compact"],
                          env=isolated_env(home), encoding="utf-8", timeout=DEADLINE)
    child.expect_exact(f"password (masked in {recording}:2): ")
    child.sendline("Typed-5")
    child.expect_exact("replayed")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert "Typed-5" not in (child.before or "")
    sent = [s for s in received(vnc_qemu) if "set_password" in s]
    assert len(sent) == 1 and '"password": "Typed-5"' in sent[0]


def test_a_masked_line_at_the_prompt_asks_for_the_secret(vnc_qemu: QemuProcess,
                                                         home: Path) -> None:
    child = pexpect.spawn(str(QMPSHELL), ["--compact", str(vnc_qemu.socket_path)],
                          env=isolated_env(home), encoding="utf-8", timeout=DEADLINE,
                          dimensions=(40, 200))
    child.expect(r"\(QEMU\)")
    child.send(f"set_password protocol=vnc password={MASK}\r")
    child.expect_exact("password (masked in the line):")
    child.send("Prompt-6\r")
    child.expect_exact('{"return": {}}')
    child.expect(r"\(QEMU\)")
    child.sendcontrol("d")
    child.expect(pexpect.EOF)
    child.close()
    sent = [s for s in received(vnc_qemu) if "set_password" in s]
    assert len(sent) == 1 and '"password": "Prompt-6"' in sent[0]


def test_the_mask_is_never_sent_to_a_server(tmp_path: Path, home: Path) -> None:
    session = tmp_path / "s.qmp"
    session.write_text(
        "query-status\n"
        f"object-add qom-type=secret id=s0 data={MASK}\n"  # the bundled table: props.data
        f"change-vnc-password password={MASK}\n"
        '{"execute": "blockdev-add", "arguments": {"driver": "file", "node-name": "f", '
        f'"filename": "{MASK}"}}}}\n')  # not a secret: sent as it is
    with FakeQMP(tmp_path) as server:
        r = run(home, server.address, "-f", str(session))
        assert r.returncode == 1
        assert r.stderr.splitlines() == [masked_message(session, 2, "props.data"),
                                         masked_message(session, 3)]
        assert [q["execute"] for q in server.received
                if q["execute"] not in ("qmp_capabilities", "query-target",
                                        "query-qmp-schema")] == ["query-status", "blockdev-add"]
        server.received.clear()
        r = run(home, server.address, "-f", str(session), "--secret", "data=D-7",
                env={"QMPSHELL_SECRET_PASSWORD": "P-8"})
        assert r.returncode == 0, r.stderr
        by_name = {q["execute"]: q.get("arguments") for q in server.received}
        assert by_name["object-add"] == {"qom-type": "secret", "id": "s0",
                                         "props": {"data": "D-7"}}
        assert by_name["change-vnc-password"] == {"password": "P-8"}


@pytest.mark.parametrize(("arg", "message"), [
    ("password", "--secret needs NAME=VALUE or NAME=@FILE, not 'password'"),
    ("password=@/nonexistent/pw", "--secret password: cannot read /nonexistent/pw: "
                                  "No such file or directory"),
])
def test_bad_secret_options_are_usage_errors(home: Path, arg: str, message: str) -> None:
    r = run(home, "-n", "--secret", arg, "-c", "query-status")
    assert r.returncode == 2
    assert r.stderr == f"qmpshell: error: {message}\n"
