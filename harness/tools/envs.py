"""The LiteLLM version matrix: one cached environment per version, the suite run against each, one
report.

Environments live in ``.cache/litellm/<version>/`` and are built once, through the
supply-chain guard (``harness.tools.supplychain``): a known-compromised release is refused,
every distribution is downloaded as a wheel and installed by hash (the list is kept in
``installed-files.json``), and the environment is scanned for start-up implants before
it is used, at build and at every reuse. From 1.108.8 on, ``litellm[proxy]`` does not
install from PyPI (the extra requires a ``litellm-proxy`` package that is not
published), so those versions get ``litellm==X`` plus the extra's other
requirements, read from the wheel's own metadata.
"""

from __future__ import annotations

import email.parser
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.errors import HarnessError
from harness.gateway import drivers
from harness.tools import supplychain

ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / ".cache" / "litellm"
# Spread over the past year, oldest first; the last is the pinned version.
DEFAULT_VERSIONS = ("1.77.7", "1.94.3", "1.108.7")
# Published only as pins the registry cannot satisfy; the proxy runs without them.
UNPUBLISHED = {"litellm-proxy"}
UNPINNED = {"litellm-proxy-extras", "litellm-enterprise"}
GOOGLE_AUTH = "google-auth>=2.20"
STOP_GRACE = 30  # seconds a stopped suite session gets to stop its proxies and workers
# A release number, a pre-release (1.110.0rc1) or a post-release (1.108.7.post1).
PRE_RELEASE = r"\d+\.\d+\.\d+((a|b|rc)\d+|\.post\d+|\.dev\d+)?"


@dataclass
class Environment:
    version: str
    python: Path
    built_seconds: float  # 0.0 when it came from the cache
    method: str
    # The driver under test: LiteLLM in this interpreter, or another gateway (issue 41: the gate
    # from one gateway to another), whose version is then its driver's.
    gateway: str = "litellm"

    @property
    def install_record(self) -> dict[str, Any]:
        """How the environment was installed: the method, what the index lacked, the attempts that
        failed."""
        record = self.python.parent.parent / "install.json"
        return dict(json.loads(record.read_text())) if record.exists() else {"method": self.method}

    @property
    def installed_files(self) -> list[dict[str, str]]:
        """Each distribution file installed, with its sha256 (empty for an environment built before
        the guard)."""
        listing = self.python.parent.parent / "installed-files.json"
        return list(json.loads(listing.read_text())) if listing.exists() else []


def _quiet(text: str) -> str:
    """An installer's error without its warnings (pip repeats one per ignored index location)."""
    return "\n".join(line for line in text.splitlines() if not line.startswith("WARNING:"))[-2000:]


def _tail(text: str, lines: int = 15) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def _create(env_dir: Path) -> None:
    uv = shutil.which("uv")
    cmd = (
        [uv, "venv", "-q", "--python", sys.executable, str(env_dir)]
        if uv
        else [sys.executable, "-m", "venv", str(env_dir)]
    )
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode:
        raise HarnessError(f"cannot create an environment in {env_dir}: {_tail(done.stderr)}")


def proxy_requirements(version: str, dropped: list[str] | None = None) -> list[str]:
    """``litellm==version`` plus its proxy extra, minus what the registry cannot provide (added to
    ``dropped``)."""
    with tempfile.TemporaryDirectory() as tmp:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "-q",
                "--no-deps",
                "-d",
                tmp,
                f"litellm=={version}",
            ],
            capture_output=True,
            text=True,
        )
        _raise_if_unknown(version, done)
        if done.returncode:
            raise HarnessError(
                f"fetching LiteLLM {version} failed:\n{_tail(done.stderr + done.stdout)}"
            )
        wheel = next(Path(tmp).glob("*.whl"))
        with zipfile.ZipFile(wheel) as z:
            name = next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))
            meta = email.parser.Parser().parsestr(z.read(name).decode())
    out = [f"litellm=={version}"]
    for req in meta.get_all("Requires-Dist") or []:
        spec, _, marker = req.partition(";")
        if not re.search(r"extra\s*==\s*['\"]proxy['\"]", marker):
            continue
        name = re.split(r"[\s<>=!~\[;]", spec.strip(), maxsplit=1)[0]
        if name.lower() in UNPUBLISHED:
            if dropped is not None:
                dropped.append(spec.strip())
            continue
        out.append(name if name.lower() in UNPINNED else spec.strip())
    return out


def _raise_if_unknown(version: str, done: subprocess.CompletedProcess[str]) -> None:
    _raise_if_unknown_text(version, done.stderr + done.stdout, done.returncode)


def _raise_if_unknown_text(version: str, text: str, returncode: int = 1) -> None:
    # Only litellm itself missing means an unknown version; a missing dependency (litellm-proxy)
    # does not.
    if returncode and re.search(
        rf"No matching distribution found for litellm(\[proxy\])?=={re.escape(version)}", text
    ):
        raise HarnessError(
            f"LiteLLM {version} is not a release on the package index. "
            "`pip index versions litellm` lists the ones there are."
        )


def environment(version: str, cache: Path = CACHE) -> Environment:
    """The cached environment for ``version``, built on first use through the supply-chain guard."""
    if not re.fullmatch(PRE_RELEASE, version):
        raise HarnessError(f"{version!r} is not a LiteLLM version number (like 1.108.7)")
    supplychain.refuse_compromised("litellm", version)
    env_dir = cache / version
    python = env_dir / "bin" / "python"
    stamp = env_dir / ".complete"
    if stamp.exists():
        supplychain.refuse_if_implanted(env_dir, f"LiteLLM {version}")
        return Environment(version, python, 0.0, stamp.read_text())
    started = time.monotonic()
    shutil.rmtree(env_dir, ignore_errors=True)  # a half-built environment is worth nothing
    _create(env_dir)
    try:
        method, files, record = _install_pinned(env_dir, version)
    except HarnessError as exc:
        shutil.rmtree(env_dir, ignore_errors=True)
        raise HarnessError(f"installing LiteLLM {version} failed:\n{exc}") from None
    # A hit leaves the environment unstamped, for inspection, and stops the gate here.
    supplychain.refuse_if_implanted(env_dir, f"LiteLLM {version}")
    (env_dir / "installed-files.json").write_text(json.dumps([vars(f) for f in files], indent=1))
    (env_dir / "install.json").write_text(json.dumps({"method": method, **record}, indent=1))
    stamp.write_text(method)
    return Environment(version, python, time.monotonic() - started, method)


def _install_pinned(
    env_dir: Path, version: str
) -> tuple[str, list[supplychain.InstalledFile], dict[str, Any]]:
    """Wheels resolved for ``litellm[proxy]`` (else the explicit requirements), installed by hash.

    The record says what the index lacked and why an earlier method failed, for the report.
    """
    site = supplychain.site_packages(env_dir)
    if not site:
        raise HarnessError(f"{env_dir} has no site-packages directory")

    # google-auth: LiteLLM's Vertex routes need it and litellm[proxy] does not bring it.
    def extra() -> list[str]:
        return [f"litellm[proxy]=={version}", GOOGLE_AUTH]

    missing: list[str] = []

    def explicit() -> list[str]:
        return [*proxy_requirements(version, missing), GOOGLE_AUTH]

    attempts: list[tuple[str, Callable[[], list[str]]]] = [
        ("litellm[proxy]", extra),
        ("explicit proxy requirements", explicit),
    ]
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        for method, requirements in attempts:
            wheels = Path(tmp) / method.split()[0]
            try:
                files = supplychain.download_wheels(requirements(), wheels)
            except HarnessError as exc:
                _raise_if_unknown_text(version, str(exc))
                failures.append(f"{method}: {exc}")
                continue
            supplychain.install_by_hash(site[0], wheels, files)
            return (
                method,
                files,
                {"missing": missing, "failed_attempts": [_quiet(f) for f in failures]},
            )
    raise HarnessError("\n".join(failures))


def run_suite(
    env: Environment, out_dir: Path, extra: list[str], variables: dict[str, str] | None = None
) -> tuple[Path, float, int]:
    """Run ``pytest suites/`` against one environment; returns its JSON run, wall time and exit
    code."""
    if env.gateway != "litellm":
        return run_suite_with(["--gateway", env.gateway], out_dir, extra, variables, env.version)
    return run_suite_with(
        ["--litellm-python", str(env.python)],
        out_dir,
        extra,
        variables,
        label=f"LiteLLM {env.version}",
    )


def gateway_environment(asked: str) -> Environment | None:
    """``NAME@VERSION`` of a gateway driver other than LiteLLM's, as the gate lists it beside
    LiteLLM versions (``portkey@1.15.2``); None for a LiteLLM version. A driver runs its pinned
    release only: another version is refused, naming the one it runs."""
    name, at, version = asked.partition("@")
    if not at:
        return None
    chosen = drivers.driver(name)
    pinned = chosen.version()
    if version != pinned:
        raise HarnessError(f"{asked}: the {name} driver runs {name}@{pinned} only")
    return Environment(asked, Path(sys.executable), 0.0, "driver", gateway=name)


def run_suite_with(
    target: list[str],
    out_dir: Path,
    extra: list[str],
    variables: dict[str, str] | None = None,
    label: str = "the gateway",
) -> tuple[Path, float, int]:
    """``run_suite`` with the arguments that choose the gateway under test given (``target``)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    report = out_dir / "compat.json"
    report.unlink(missing_ok=True)  # an old run must never stand in for this one
    started = time.monotonic()
    # Another version's fuzz run must not rewrite the repository's example database: it gets a copy.
    examples = out_dir / "fuzz-examples"
    shutil.rmtree(examples, ignore_errors=True)
    shutil.copytree(ROOT / "suites" / "fuzz-examples", examples)
    variables = {"CC_GATEWAY_FUZZ_EXAMPLES": str(examples), **(variables or {})}
    # Node ids narrow the run (the gate's second run of the checks that moved); otherwise all of
    # suites/.
    paths = [] if any(a.startswith("suites/") for a in extra) else ["suites"]
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        *paths,
        "-q",
        "-p",
        "no:cacheprovider",
        "--tb=no",
        *target,
        "--report-dir",
        str(out_dir),
        *extra,
    ]
    done = _pytest(cmd, {**os.environ, **variables})
    # pytest exits 1 when checks fail (a version without a deviations file does); more is a crash.
    if not report.exists() or done.returncode > 1:
        raise HarnessError(
            f"the suite did not complete for {label} (pytest exit {done.returncode}):\n"
            f"{_tail(done.stdout + done.stderr)}"
        )
    return report, time.monotonic() - started, done.returncode


def _pytest(cmd: list[str], variables: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """The suite's session; if this program is stopped meanwhile, the session is stopped first and
    given time to take its proxies and workers down (``subprocess.run`` would SIGKILL it, leaving
    them to outlive it)."""
    with subprocess.Popen(
        cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=variables
    ) as child:
        try:
            out, err = child.communicate()
        except BaseException:
            child.terminate()
            try:  # reading on, so a session that writes while it stops never blocks on a full pipe
                child.communicate(timeout=STOP_GRACE)
            finally:
                child.kill()
            raise
    return subprocess.CompletedProcess(cmd, child.returncode, out, err)


def index_versions(package: str = "litellm", pre: bool = False) -> list[str]:
    """The package's final releases on the index, newest first (pip's own view of the index);
    pre-releases too with ``pre``."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "index",
            "versions",
            package,
            "--disable-pip-version-check",
            *(["--pre"] if pre else []),
        ],
        capture_output=True,
        text=True,
    )
    found = re.search(r"Available versions:\s*(.+)", done.stdout)
    if done.returncode or not found:
        raise HarnessError(
            f"cannot list {package}'s releases on the index:\n{_tail(done.stderr + done.stdout)}"
        )
    versions = [v.strip() for v in found.group(1).split(",")]
    return [v for v in versions if re.fullmatch(PRE_RELEASE if pre else r"\d+\.\d+\.\d+", v)]


@dataclass
class Newest:
    environment: Environment
    passed_over: list[str]  # newer releases, each with why it was not taken


def newest_installable(
    versions: list[str], tries: int = 4, build: Callable[[str], Environment] = environment
) -> Newest:
    """The newest release (of ``versions``, newest first) that installs through the guard.

    A compromised release is passed over, and so is one that does not install at all; the report
    says which and why, so "newest" never silently means an older version.
    """
    passed: list[str] = []
    for version in versions:
        if len(passed) >= tries:
            break
        try:
            return Newest(build(version), passed)
        except HarnessError as exc:
            passed.append(f"{version}: {str(exc).splitlines()[0]}")
    raise HarnessError("no installable LiteLLM among the newest releases:\n" + "\n".join(passed))
