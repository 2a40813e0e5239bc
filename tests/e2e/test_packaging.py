"""The command table ships in the wheel and loads from a non-editable install."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LEFT_OUT = shutil.ignore_patterns(
    ".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".*_cache"
)


def run(*cmd: str | Path, cwd: Path) -> str:
    done = subprocess.run(
        [str(c) for c in cmd], capture_output=True, text=True, timeout=180, cwd=cwd
    )
    assert done.returncode == 0, f"{cmd}\n{done.stdout}\n{done.stderr}"
    return done.stdout


def test_wheel_carries_the_table_and_loads_it_when_installed(tmp_path: Path) -> None:
    # build from a copy, so the shared tree gets no build/ or egg-info
    source = tmp_path / "src"
    shutil.copytree(ROOT, source, ignore=LEFT_OUT)
    wheels = tmp_path / "wheels"
    run(sys.executable, "-m", "pip", "wheel", ".", "--no-deps", "-q", "-w", wheels, cwd=source)
    (wheel,) = wheels.glob("qmpshell-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "qmpshell/schema/data/commands.json" in names
    assert not any(n.startswith("tools/") for n in names)
    assert "qmpshell/schema/data/qmp-commands.hx.blame.txt" in names
    assert "qmpshell/schema/data/README.md" in names  # the spec copy's GPL-2.0 attribution
    assert "qmpshell/schema/table.py" in names

    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", venv, cwd=tmp_path)
    python = venv / "bin" / "python"
    run(python, "-m", "pip", "install", "-q", "--no-deps", wheel, cwd=tmp_path)
    code = (
        "import qmpshell, qmpshell.schema.table\n"
        "print(qmpshell.__file__)\n"
        "print(len(qmpshell.schema.table.load_bundled_schema().commands))\n"
    )
    location, count = run(python, "-I", "-c", code, cwd=tmp_path).splitlines()
    assert location.startswith(str(venv)), location
    assert count == "117"
