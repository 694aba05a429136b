#!/usr/bin/env python3
"""The project's two entry points, usable on a machine with nothing but Python 3.11+.

    python3 dev.py suite [PYTEST ARGS]   # the conformance suite against the pinned LiteLLM
                                         # (--gateway claude-gateway|portkey: another gateway)
    python3 dev.py all   [PYTEST ARGS]   # ruff, mypy, the import contracts, the deviations
                                         # check, the self-tests and the suite,
                                         # then the settings-sensitive checks again under
                                         # --litellm-settings isolated, merged beside it in
                                         # reports/settings.html
                                         # and the catalogue through Anthropic's
                                         # gateway, claude-code-router and Portkey's
                                         # (reports/<gateway>/), with one table across
                                         # the four (reports/gateways.html)
                                         # (as root, also installs Debian's chromium
                                         # for the report test and postgresql for
                                         # Anthropic's gateway)
    python3 dev.py matrix [--litellm V ...]  # the suite against several LiteLLM versions,
                                         # one report
    python3 dev.py gate [--litellm V ... newest] [--claude-code X ...] [--baseline V/X]
                                         # the upgrade gate: every LiteLLM x Claude Code pair,
                                         # one grid report (reports/gate/gate.html); exit 1 if
                                         # the candidate regresses
    python3 dev.py kill-matrix [ARGS]    # the full kill matrix: every reference-gateway fault
                                         # against every check, collateral kills included
                                         # (reports/controls.html; .ci/weekly runs it)

Each creates (or refreshes) ``.venv`` at the repository root first, so a fresh
clone needs no other setup step. The environment is rebuilt only when
``pyproject.toml`` changes: a stamp file remembers the hash it was built from.
"""

from __future__ import annotations

import glob
import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
STAMP = VENV / ".cc-gateway-stamp"
EXTRAS = "dev,litellm"


def _venv_python() -> Path:
    return VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def _wanted_stamp() -> str:
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    return f"{digest} {EXTRAS} {sys.version_info[:2]}"


def _run(cmd: list[str]) -> int:
    print("+", " ".join(cmd), flush=True)
    return subprocess.call(cmd, cwd=ROOT, env=_env())


def _env() -> dict[str, str]:
    """The caller's environment, except that Python may keep the bytecode it compiles.

    Container images often set PYTHONDONTWRITEBYTECODE; then every pytest worker, and every pytest
    the self-tests start, compiles the harness and rewrites the checks' asserts anew (0.8 CPU-s a
    process). The bytecode lands in __pycache__/ folders, which git ignores.
    """
    return {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def ensure_venv() -> Path:
    """Create .venv and install the project into it unless the stamp is current."""
    python = _venv_python()
    if STAMP.exists() and python.exists() and STAMP.read_text() == _wanted_stamp():
        return python
    if not python.exists():
        print(f"creating {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
    pip = [str(python), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    if _run([*pip, "-e", f".[{EXTRAS}]"]) != 0:
        sys.exit("dev.py: installing the project into .venv failed (see pip's output above)")
    STAMP.write_text(_wanted_stamp())
    return python


def ensure_debian(packages: list[str], present: bool, what: str) -> None:
    """Debian packages the suite needs beside Python, installed when we may (root and apt-get);
    otherwise a line saying which checks will report their absence."""
    if present:
        return
    if not shutil.which("apt-get") or not hasattr(os, "geteuid") or os.geteuid() != 0:
        print(f"dev.py: {what} missing and apt-get unavailable (or not root)", flush=True)
        return
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in (
        ["apt-get", "update", "-qq"],
        ["apt-get", "install", "-y", "-qq", *packages],
    ):
        print("+", " ".join(cmd), flush=True)
        if subprocess.call(cmd, env=env, stdout=subprocess.DEVNULL) != 0:
            print(f"dev.py: installing {what} failed", flush=True)
            return


def ensure_browser() -> None:
    """Debian's Chromium and its driver, for the report's browser test (skipped without them)."""
    present = bool(shutil.which("chromium") and shutil.which("chromedriver"))
    ensure_debian(["chromium", "chromium-driver"], present, "chromium/chromedriver")


def ensure_postgres() -> None:
    """Debian's PostgreSQL server, the store of Anthropic's gateway (issue 41); the harness
    starts a throwaway cluster of its own, so the package's own cluster is not needed."""
    present = bool(shutil.which("initdb") or glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    ensure_debian(["postgresql"], present, "PostgreSQL's server (for --gateway claude-gateway)")


def _gateway_of(extra: list[str]) -> str:
    for i, arg in enumerate(extra):
        if arg in ("--gateway", "--gateway-impl") and i + 1 < len(extra):
            return extra[i + 1]
        if arg.startswith(("--gateway=", "--gateway-impl=")):
            return arg.partition("=")[2]
    return "litellm"


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"suite", "all", "matrix", "gate", "kill-matrix"}:
        print(__doc__, file=sys.stderr)
        return 2
    python = str(ensure_venv())
    command, extra = argv[0], argv[1:]
    # Setup, not test: the e2e checks then run from .cache/ without reaching the registry.
    if (
        command in {"suite", "all"}
        and shutil.which("npm")
        and _run([python, "-m", "harness", "install-claude-code"]) != 0
    ):
        print(
            "dev.py: installing the Claude Code CLI failed; the e2e checks will report it",
            flush=True,
        )
    if command == "suite":
        if _gateway_of(extra) == "claude-gateway":
            ensure_postgres()
        return _run([python, "-m", "pytest", "suites/", *extra])
    if command in {"matrix", "gate"}:
        return _run([python, "-m", "harness", command, *extra])
    if command == "kill-matrix":
        return _run([python, "-m", "harness", "controls", "--out", "reports", *extra])
    ensure_browser()
    ensure_postgres()
    # The deviations files gate every run, and the cassettes answer checks: both are held to
    # their rules (fingerprints; no secret, provenance, the provider's protocol) before any test
    # runs. Imports run one way through harness/'s layers (the contracts in pyproject.toml).
    if rc := _run([str(Path(python).with_name("lint-imports")), "--no-cache"]):
        return rc
    # Every requirement is proven by a fault of the reference gateway, or names why none can reach
    # it.
    for check in (
        ["ruff", "check", "."],
        ["ruff", "format", "--check", "."],
        ["mypy"],
        ["harness", "catalogue", "--check"],
        ["harness", "deviations", "check"],
        ["harness", "cassettes", "check"],
        ["harness", "cassettes", "verify"],
        ["harness", "cassettes", "audit"],
    ):
        if rc := _run([python, "-m", *check]):
            return rc
    # pytest's own exit code 5 ("no tests collected") is non-zero, so it fails here too.
    # Two sessions, each with the whole machine: the harness's tests that run the suite or the gate
    # in subprocesses would otherwise share the cores with the checks that time a stream
    # (STREAM-008, -011) and make them measure the machine. The suite writes the report; the
    # harness's tests write none.
    main_rc = _run([python, "-m", "pytest", "suites/", *extra])
    tests_rc = _run([python, "-m", "pytest", "tests/", "--no-report", *extra])
    # Entries matching no check and waivers past expiry fail; entries the run shows fixed are listed
    # as good news.
    lint_rc = _run([python, "-m", "harness", "deviations", "lint", "--run", "reports/compat.json"])
    # The checks whose verdict can hang on retries, timeouts and cooldowns run again under the
    # harness's old isolation settings, and one page shows both columns side by side.
    isolated_rc = _run(
        [
            python,
            "-m",
            "pytest",
            "suites/",
            "-m",
            "settings_sensitive",
            "--litellm-settings",
            "isolated",
            "--report-dir",
            "reports/isolated",
            *extra,
        ]
    )
    if (ROOT / "reports/compat.json").exists() and (ROOT / "reports/isolated/compat.json").exists():
        _run(
            [
                python,
                "-m",
                "harness",
                "merge",
                "reports/compat.json",
                "reports/isolated/compat.json",
                "-o",
                "reports/settings.html",
            ]
        )
    # The same catalogue through Anthropic's gateway, claude-code-router and Portkey's (issue 41),
    # each held to its own deviations file, and one table across the gateways. Portkey's real-CLI
    # checks are left out: their outcome varies run to run (docs/gateways.md).
    others = {"claude-gateway": [], "claude-code-router": [], "portkey": ["-m", "not e2e"]}
    other_rc = 0
    for name, narrowed in others.items():
        report = f"reports/{name}"
        argv = ["-m", "pytest", "suites/", "--gateway", name, *narrowed, "--report-dir", report]
        other_rc = _run([python, *argv, *extra]) or other_rc
    runs = ["reports/compat.json", *(f"reports/{name}/compat.json" for name in others)]
    if all((ROOT / run).exists() for run in runs):
        _run([python, "-m", "harness", "gateways", *runs, "-o", "reports/gateways.html"])
    return main_rc or tests_rc or isolated_rc or lint_rc or other_rc


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
