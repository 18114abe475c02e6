"""Release hygiene: `python -m build` makes a wheel and an sdist that install and run.

The wheel is installed into a fresh virtual environment (no pip of its own, nothing
downloaded: pip installs the wheel with --no-deps, and the runtime dependencies are
borrowed from the running environment through a .pth file that adds its site-packages
after the fresh one's). `amtopcon --version` there prints the version, and the emulator
runs from the installed files, default catalog included.

The sdist goes the way pip takes it: unpacked, built into a wheel by its own build
backend (`python -m build --wheel` on the unpacked tree, as `pip install` of an sdist
does), and that wheel installed into another fresh environment and run the same way.
It must hold the same files as the wheel built from the repository.
"""

from __future__ import annotations

import email
import os
import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from pathlib import Path
from typing import Any

import pytest

from amtopcon import __version__

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow

pytest.importorskip("build", reason="python -m build comes with the dev extra")


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    done = subprocess.run(
        [sys.executable, "-m", "build", "--sdist", "--wheel", "--outdir", str(out), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return out


def _one(dist: Path, pattern: str) -> Path:
    found = sorted(dist.glob(pattern))
    assert len(found) == 1, found
    return found[0]


def test_the_wheel_ships_the_package_typed_with_its_data_and_entry_points(dist: Path) -> None:
    wheel = _one(dist, f"amtopcon-{__version__}-py3-none-any.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        info = f"amtopcon-{__version__}.dist-info"
        metadata = email.message_from_bytes(zf.read(f"{info}/METADATA"))
        entry_points = zf.read(f"{info}/entry_points.txt").decode()
    for name in (
        "amtopcon/__init__.py",
        "amtopcon/py.typed",
        "amtopcon/cli/__init__.py",
        "amtopcon/testing/__init__.py",
        "amtopcon/testing/pytest_plugin.py",
        "amtopcon/testing/default_catalog.toml",
        f"{info}/licenses/LICENSE",
    ):
        assert name in names, name
    assert not any(n.startswith(("tests/", "docs/", "examples/")) for n in names)
    assert metadata["Name"] == "amtopcon"
    assert metadata["Version"] == __version__
    assert metadata["License-Expression"] == "Apache-2.0"
    assert metadata["Requires-Python"] == ">=3.11"
    requires = " ".join(metadata.get_all("Requires-Dist") or [])
    for dependency in ("httpx", "attrs", "cattrs"):
        assert dependency in requires
    assert "Typing :: Typed" in (metadata.get_all("Classifier") or [])
    assert "amtopcon = amtopcon._entry:main" in entry_points
    assert "amtopcon = amtopcon.testing.pytest_plugin" in entry_points


def test_the_sdist_carries_sources_tests_docs_and_examples(dist: Path) -> None:
    sdist = _one(dist, f"amtopcon-{__version__}.tar.gz")
    with tarfile.open(sdist) as tf:
        names = {n.split("/", 1)[1] for n in tf.getnames() if "/" in n}
    for name in (
        "pyproject.toml",
        "README.md",
        "CHANGELOG.md",
        "LICENSE",
        "mkdocs.yml",
        "openapi.yaml",
        "amtopcon/py.typed",
        "amtopcon/testing/default_catalog.toml",
        "docs/index.md",
        "examples/sync_run.py",
        "tests/docs/test_markdown.py",
    ):
        assert name in names, name
    assert not any(n.startswith((".venv/", ".git/")) for n in names)


def test_the_wheel_installs_in_a_fresh_venv_and_runs(dist: Path, tmp_path: Path) -> None:
    _install_and_run(_one(dist, "amtopcon-*.whl"), tmp_path)


@pytest.mark.timeout(90)  # about 5 s with the build backend in pip's cache
def test_the_sdist_builds_installs_in_a_fresh_venv_and_runs(dist: Path, tmp_path: Path) -> None:
    sdist = _one(dist, f"amtopcon-{__version__}.tar.gz")
    unpacked = tmp_path / "unpacked"
    with tarfile.open(sdist) as tf:
        safe: dict[str, Any] = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}  # 3.11.4+
        tf.extractall(unpacked, **safe)
    (tree,) = unpacked.iterdir()
    assert tree.name == f"amtopcon-{__version__}"
    out = tmp_path / "from-sdist"
    built = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(out), str(tree)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    wheel = _one(out, f"amtopcon-{__version__}-py3-none-any.whl")
    # The sdist carries everything the wheel needs: the same files as the wheel built from the repository.
    with zipfile.ZipFile(wheel) as from_sdist, zipfile.ZipFile(_one(dist, "amtopcon-*.whl")) as from_tree:
        assert sorted(from_sdist.namelist()) == sorted(from_tree.namelist())
    _install_and_run(wheel, tmp_path)


def _install_and_run(wheel: Path, tmp_path: Path) -> None:
    """Install `wheel` into a fresh venv under `tmp_path`; `amtopcon --version` and an emulator run there."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=60)
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps", "--no-index", str(wheel)],
        check=True,
        timeout=120,
    )
    bin_dir = python.parent
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AMTOPCON_", "PYTHON"))}

    # The console script, with nothing but the wheel installed: --version needs no dependency.
    version = subprocess.run(
        [str(bin_dir / "amtopcon"), "--version"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
        check=False,
    )
    assert version.returncode == 0, version.stderr
    assert version.stdout.strip() == f"amtopcon {__version__}"

    # Borrow the runtime dependencies (after the fresh site-packages, so the wheel's amtopcon wins).
    purelib = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        ).stdout.strip()
    )
    (purelib / "zz_borrowed_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    script = (
        "import amtopcon, amtopcon.testing\n"
        "from amtopcon.testing import Emulator\n"
        "result = Emulator().client().run('DEMO2', 'REPORTTEST01')\n"
        "print(amtopcon.__file__)\n"
        "print(result.code.name)\n"
    )
    run = subprocess.run(
        [str(python), "-c", script], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60, check=False
    )
    assert run.returncode == 0, run.stderr
    where, code = run.stdout.split()
    assert Path(where).is_relative_to(venv), where
    assert code == "DONE"
