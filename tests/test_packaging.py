"""The harness installs as a plugin: the wheel holds every package, and alone in a fresh venv it
runs the suites."""

from __future__ import annotations

import configparser
import json
import os
import shutil
import site
import subprocess
import sys
import tomllib
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
# A narrow slice: one proxy (the default gateway), a few seconds of checks, one known deviation
# among them.
SLICE = "test_liveliness_answers_without_key_or_provider or test_quickstart_health_check_answers"


def _packages_on_disk() -> set[str]:
    found = {
        ".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "harness").rglob("__init__.py")
    }
    found |= {
        ".".join(("cc_gateway_suites", *p.parent.relative_to(ROOT / "suites").parts))
        for p in (ROOT / "suites").rglob("__init__.py")
    }
    return found


def test_the_wheel_lists_every_package_on_disk():
    """pyproject.toml lists the packages (suites/ installs under another name): none may be left out
    of the wheel."""
    listed = set(PYPROJECT["tool"]["setuptools"]["packages"])
    on_disk = _packages_on_disk()
    assert listed == on_disk, f"missing {on_disk - listed}, extra {listed - on_disk}"


def test_the_installed_suites_have_the_checkouts_pytest_settings():
    """conformance.ini (the installed suites' settings) says what pyproject.toml's pytest section
    says."""
    ini = configparser.ConfigParser()
    ini.read(ROOT / "suites" / "conformance.ini")
    installed = {k: " ".join(v.split()) for k, v in ini["pytest"].items()}
    checkout = {
        k: " ".join(v) if isinstance(v, list) else str(v).lower() if isinstance(v, bool) else str(v)
        for k, v in PYPROJECT["tool"]["pytest"]["ini_options"].items()
        if k != "testpaths"
    }
    assert installed == checkout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project's wheel, built offline from this checkout."""
    out = tmp_path_factory.mktemp("wheel")
    # Built from a copy: setuptools leaves build/ and *.egg-info beside the sources it builds.
    source = tmp_path_factory.mktemp("source")
    for name in ("harness", "suites"):
        shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "-w",
            str(out),
            str(source),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (built,) = out.glob("cc_gateway_conformance-*.whl")
    return built


@pytest.fixture(scope="module")
def fresh_venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new venv holding the wheel alone; its dependencies come from this venv's site-packages,
    read-only.

    Installing them from the package index would leave loopback, which no test may do. A path line
    in a .pth adds the folder without running its .pth files, so this checkout's editable install
    stays out of reach.
    """
    home = tmp_path_factory.mktemp("fresh")
    venv.EnvBuilder(with_pip=True).create(home / "venv")
    python = home / "venv" / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    Path(purelib, "borrowed-dependencies.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    return home / "venv"


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "PYTHON", "COV_"))}


def test_the_harness_imports_from_the_wheel_not_the_checkout(fresh_venv, tmp_path):
    probe = (
        "import harness, cc_gateway_suites; print(harness.__file__); "
        "print(cc_gateway_suites.__file__)"
    )
    done = subprocess.run(
        [str(fresh_venv / "bin" / "python"), "-c", probe],
        cwd=tmp_path,
        env=_clean_env(),
        capture_output=True,
        text=True,
        check=True,
    )
    for line in done.stdout.split():
        assert Path(line).is_relative_to(fresh_venv), (
            f"imported from outside the fresh venv: {line}"
        )


@pytest.mark.slow
def test_the_built_wheel_alone_runs_a_narrow_slice_of_the_suite(fresh_venv, tmp_path):
    """`cc-gateway-conformance -k ...` in an empty folder: the real LiteLLM, the fakes, a report in
    that folder."""
    command = [
        str(fresh_venv / "bin" / "cc-gateway-conformance"),
        "-n",
        "0",
        "-k",
        SLICE,
        "--litellm-python",
        sys.executable,
    ]
    done = subprocess.run(
        command, cwd=tmp_path, env=_clean_env(), capture_output=True, text=True, timeout=600
    )
    tail = (done.stdout + done.stderr)[-3000:]
    assert done.returncode == 0, tail
    assert "cc-gateway: LiteLLM " in done.stdout, (
        tail
    )  # the plugin's report header: loaded from the entry point
    run = json.loads((tmp_path / "reports" / "compat.json").read_text())
    outcomes = sorted(r["outcome"] for r in run["results"])
    assert outcomes, tail
    assert set(outcomes) <= {"pass", "deviation"}, outcomes
    assert all(r["nodeid"].startswith("test_discovery.py::") for r in run["results"]), run[
        "results"
    ][0]["nodeid"]
    assert done.stdout.rstrip().splitlines()[-2].startswith("SAFE"), (
        tail
    )  # the verdict ends the summary
