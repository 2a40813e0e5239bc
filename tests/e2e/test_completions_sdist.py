"""The source distribution carries the completions, the man page and the
changelog, so packagers can install them."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LEFT_OUT = shutil.ignore_patterns(
    ".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".*_cache")
SHIPPED = ("completions/qmpshell.bash", "completions/_qmpshell", "completions/qmpshell.fish",
           "docs/qmpshell.1", "CHANGELOG.md", "README.md")


def test_sdist_ships_completions_man_page_and_changelog(tmp_path: Path) -> None:
    # build from a copy, so the shared tree gets no dist/ or egg-info
    source = tmp_path / "src"
    shutil.copytree(ROOT, source, ignore=LEFT_OUT)
    done = subprocess.run(
        [sys.executable, "-c",
         "import sys; from setuptools.build_meta import build_sdist; "
         "print(build_sdist(sys.argv[1]))", str(tmp_path / "dist")],
        cwd=source, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    name = done.stdout.strip().splitlines()[-1]
    with tarfile.open(tmp_path / "dist" / name) as archive:
        members = {m.split("/", 1)[1] for m in archive.getnames() if "/" in m}
        for path in SHIPPED:
            assert path in members, path
            shipped = archive.extractfile(f"{name.removesuffix('.tar.gz')}/{path}")
            assert shipped is not None
            assert shipped.read() == (ROOT / path).read_bytes(), path
