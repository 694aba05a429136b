"""The LiteLLM version matrix: one cached environment per version, the suite run against each, one report.

Environments live in ``.cache/litellm/<version>/`` and are built once (with uv when
it is on PATH, pip otherwise). From 1.108.8 on, ``litellm[proxy]`` does not
install from PyPI (the extra requires a ``litellm-proxy`` package that is not
published), so those versions get ``litellm==X`` plus the extra's other
requirements, read from the wheel's own metadata.
"""

from __future__ import annotations

import email.parser
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

from harness.errors import HarnessError

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".cache" / "litellm"
# Spread over the past year, oldest first; the last is the pinned version.
DEFAULT_VERSIONS = ("1.77.7", "1.94.3", "1.108.7")
# Published only as pins the registry cannot satisfy; the proxy runs without them.
UNPUBLISHED = {"litellm-proxy"}
UNPINNED = {"litellm-proxy-extras", "litellm-enterprise"}
GOOGLE_AUTH = "google-auth>=2.20"


@dataclass
class Environment:
    version: str
    python: Path
    built_seconds: float  # 0.0 when it came from the cache
    method: str


def _tail(text: str, lines: int = 15) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def _installer(env_dir: Path) -> list[str]:
    uv = shutil.which("uv")
    if uv:
        return [uv, "pip", "install", "--python", str(env_dir / "bin" / "python"), "-q"]
    return [str(env_dir / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check"]


def _create(env_dir: Path) -> None:
    uv = shutil.which("uv")
    cmd = [uv, "venv", "-q", "--python", sys.executable, str(env_dir)] if uv else \
        [sys.executable, "-m", "venv", str(env_dir)]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode:
        raise HarnessError(f"cannot create an environment in {env_dir}: {_tail(done.stderr)}")


def proxy_requirements(version: str) -> list[str]:
    """``litellm==version`` plus its proxy extra, minus what the registry cannot provide."""
    with tempfile.TemporaryDirectory() as tmp:
        done = subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "-d", tmp,
                               f"litellm=={version}"], capture_output=True, text=True)
        _raise_if_unknown(version, done)
        if done.returncode:
            raise HarnessError(f"fetching LiteLLM {version} failed:\n{_tail(done.stderr + done.stdout)}")
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
            continue
        out.append(name if name.lower() in UNPINNED else spec.strip())
    return out


def _raise_if_unknown(version: str, done: subprocess.CompletedProcess[str]) -> None:
    text = done.stderr + done.stdout
    # Only litellm itself missing means an unknown version; a missing dependency (litellm-proxy) does not.
    if done.returncode and re.search(rf"No matching distribution found for litellm(\[proxy\])?=={re.escape(version)}",
                                     text):
        raise HarnessError(f"LiteLLM {version} is not a release on the package index. "
                           "`pip index versions litellm` lists the ones there are.")


def environment(version: str, cache: Path = CACHE) -> Environment:
    """The cached environment for ``version``, built on first use."""
    if not re.fullmatch(r"\d+\.\d+\.\d+(\.post\d+)?", version):
        raise HarnessError(f"{version!r} is not a LiteLLM version number (like 1.108.7)")
    env_dir = cache / version
    python = env_dir / "bin" / "python"
    stamp = env_dir / ".complete"
    if stamp.exists():
        return Environment(version, python, 0.0, stamp.read_text())
    started = time.monotonic()
    shutil.rmtree(env_dir, ignore_errors=True)  # a half-built environment is worth nothing
    _create(env_dir)
    # google-auth: LiteLLM's Vertex routes need it and litellm[proxy] does not bring it.
    done = subprocess.run([*_installer(env_dir), f"litellm[proxy]=={version}", GOOGLE_AUTH], capture_output=True,
                          text=True)
    method = "litellm[proxy]"
    if done.returncode:
        _raise_if_unknown(version, done)
        done = subprocess.run([*_installer(env_dir), *proxy_requirements(version), GOOGLE_AUTH], capture_output=True,
                              text=True)
        method = "explicit proxy requirements"
    if done.returncode:
        shutil.rmtree(env_dir, ignore_errors=True)
        raise HarnessError(f"installing LiteLLM {version} ({method}) failed:\n{_tail(done.stderr + done.stdout)}")
    stamp.write_text(method)
    return Environment(version, python, time.monotonic() - started, method)


def run_suite(env: Environment, out_dir: Path, extra: list[str]) -> tuple[Path, float, int]:
    """Run ``pytest suites/`` against one environment; returns its JSON run, wall time and exit code."""
    out_dir.mkdir(parents=True, exist_ok=True)
    report = out_dir / "compat.json"
    report.unlink(missing_ok=True)  # an old run must never stand in for this one
    started = time.monotonic()
    cmd = [sys.executable, "-m", "pytest", "suites", "-q", "-p", "no:cacheprovider", "--tb=no",
           "--litellm-python", str(env.python), "--report-dir", str(out_dir), *extra]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    # pytest exits 1 when checks fail (a version without a deviations file does); more is a crash.
    if not report.exists() or done.returncode > 1:
        raise HarnessError(f"the suite did not complete for LiteLLM {env.version} (pytest exit {done.returncode}):\n"
                           f"{_tail(done.stdout + done.stderr)}")
    return report, time.monotonic() - started, done.returncode
