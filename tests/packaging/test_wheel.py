"""The wheel as a user gets it: built from the tracked files, installed into a clean virtualenv outside the source
tree, and run from a directory where the source tree cannot shadow the installed package."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("emulator", "producers", "analytics", "sinks", "foundation")


@dataclass(frozen=True)
class Installed:
    wheel: Path
    venv: Path
    cwd: Path

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        # No PYTHONPATH and a working directory outside the source tree: only the installed package can answer.
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "KEMU_", "VIRTUAL_ENV"))}
        env["PATH"] = f"{self.venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
        return subprocess.run(args, cwd=self.cwd, env=env, capture_output=True, text=True, timeout=300, check=False)


def tracked_files() -> list[str]:
    listed = subprocess.run(
        ["git", "ls-files", *PACKAGES, "pyproject.toml", "README.md"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    return [name for name in listed if (ROOT / name).is_file()]


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    base = tmp_path_factory.mktemp("packaging")
    # The build reads a copy of the tracked files: nothing untracked gets in, and the worktree gets no build/.
    source = base / "source"
    for name in tracked_files():
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, source / name)
    dist = base / "dist"
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(dist), str(source)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert built.returncode == 0, built.stderr
    (wheel,) = dist.glob("kemu-*.whl")
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    pip = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", str(wheel)],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert pip.returncode == 0, pip.stderr
    cwd = base / "elsewhere"
    cwd.mkdir()
    return Installed(wheel, venv, cwd)


def test_the_wheel_holds_every_tracked_file_of_the_packages(installed: Installed) -> None:
    with zipfile.ZipFile(installed.wheel) as wheel:
        names = set(wheel.namelist())
    package_files = [name for name in tracked_files() if name.startswith(tuple(f"{p}/" for p in PACKAGES))]
    assert package_files
    missing = [name for name in package_files if name not in names]
    assert not missing, f"the wheel lacks {missing}: add their patterns to [tool.setuptools.package-data]"


def test_the_installed_cli_answers(installed: Installed) -> None:
    result = installed.run("kemu", "--help")
    assert result.returncode == 0, result.stderr
    for command in ("up", "services", "analytics", "produce", "sink", "kinesis", "api"):
        assert command in result.stdout


def test_analytics_list_loads_every_builtin_query_from_the_installed_package(installed: Installed) -> None:
    result = installed.run("kemu", "analytics", "list")
    assert result.returncode == 0, result.stdout + result.stderr
    listed = {line.split()[0] for line in result.stdout.splitlines() if line.strip()}
    assert listed == {path.stem for path in (ROOT / "analytics" / "queries").glob("*.sql")}


def test_each_builtin_query_builds_its_operator_from_the_installed_files(installed: Installed) -> None:
    script = (
        "import analytics, emulator, producers, sinks, sys\n"
        "from analytics.query_files import BUILTIN_QUERIES, load_queries\n"
        "from analytics.protocol import make_operator\n"
        "for module in (analytics, emulator, producers, sinks):\n"
        f"    assert not any(p.startswith({str(ROOT)!r}) for p in module.__path__), module.__path__\n"
        "catalog = load_queries()\n"
        "for query in catalog.values():\n"
        "    make_operator(query)\n"
        "    assert query.path.is_relative_to(BUILTIN_QUERIES)\n"
        "from emulator.api.routers import page\n"
        "from importlib import resources\n"
        "for name in ('index.html', 'app.js', 'style.css'):\n"
        "    assert resources.files('emulator.api').joinpath('static', name).is_file(), name\n"
        "from producers.schemas import SCHEMA_DIR\n"
        "assert sorted(p.name for p in SCHEMA_DIR.glob('*.json')) == ['clickstream.json', 'game.json', 'iot.json']\n"
        "print(len(catalog))\n"
    )
    result = installed.run("python", "-c", script)
    assert result.returncode == 0, result.stdout + result.stderr
    assert int(result.stdout.strip()) == len(list((ROOT / "analytics" / "queries").glob("*.sql")))
