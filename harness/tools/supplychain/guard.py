"""The code of :mod:`harness.tools.supplychain`; what it is for: the package's docstring."""

from __future__ import annotations

import csv
import hashlib
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

from harness.errors import HarnessError

LIST = Path(__file__).with_name("compromised.yaml")
# Code-running .pth files that belong to a tool, not to a package under test: name -> owning
# distribution.
KNOWN_PTH = {"distutils-precedence.pth": "setuptools"}
# Files an environment tool writes beside the packages (uv and virtualenv seed these).
ENV_TOOL_FILES = {"_virtualenv.py", "_virtualenv.pth"}
STARTUP_HOOKS = {"sitecustomize.py", "usercustomize.py"}


@dataclass(frozen=True)
class Compromised:
    package: str
    version: str
    what: str
    source: str


@dataclass(frozen=True)
class Finding:
    path: Path
    why: str


@dataclass(frozen=True)
class InstalledFile:
    name: str
    sha256: str


def compromised_list(path: Path = LIST) -> list[Compromised]:
    raw = yaml.safe_load(path.read_text()) or {}
    return [
        Compromised(str(e["package"]), str(e["version"]), str(e["what"]), str(e["source"]))
        for e in raw.get("compromised", [])
    ]


def refuse_compromised(package: str, version: str, path: Path = LIST) -> None:
    """Raise before anything is downloaded when ``package==version`` is a known-compromised
    release."""
    for entry in compromised_list(path):
        if entry.package.lower() == package.lower() and entry.version == version:
            raise HarnessError(
                f"{package} {version} was published compromised ({entry.what}; "
                f"source: {entry.source}). Installing it, even only to test it, runs its "
                "implant, so the gate refuses it. Test the release before or after it instead."
            )


# -- install by hash ------------------------------------------------------------------------------


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def download_wheels(requirements: list[str], dest: Path) -> list[InstalledFile]:
    """Resolve and download every distribution as a wheel; returns each file's name and sha256."""
    dest.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "-q",
            "--disable-pip-version-check",
            "--only-binary",
            ":all:",
            "-d",
            str(dest),
            *requirements,
        ],
        capture_output=True,
        text=True,
    )
    if done.returncode:
        tail = "\n".join((done.stderr + done.stdout).strip().splitlines()[-12:])
        raise HarnessError(
            f"resolving {' '.join(requirements)} to wheels failed (an sdist-only dependency would "
            f"run its build code, so none is accepted):\n{tail}"
        )
    return [InstalledFile(p.name, sha256(p)) for p in sorted(dest.glob("*.whl"))]


def install_by_hash(site: Path, wheels: Path, files: list[InstalledFile]) -> None:
    """Install exactly these files into ``site`` (a site-packages directory), each checked against
    its recorded hash. The harness's own pip does it (``--target``), so the environment's Python
    never starts."""
    pins = wheels / "pinned-requirements.txt"
    pins.write_text("".join(f"{wheels / f.name} --hash=sha256:{f.sha256}\n" for f in files))
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--disable-pip-version-check",
            "--no-index",
            "--no-deps",
            "--require-hashes",
            "--upgrade",
            "--target",
            str(site),
            "-r",
            str(pins),
        ],
        capture_output=True,
        text=True,
    )
    if done.returncode:
        tail = "\n".join((done.stderr + done.stdout).strip().splitlines()[-12:])
        raise HarnessError(f"installing by hash into {site} failed:\n{tail}")


# -- scan -----------------------------------------------------------------------------------------


def site_packages(env_dir: Path) -> list[Path]:
    return sorted(env_dir.glob("lib/python*/site-packages"))


def _owners(site: Path) -> dict[Path, str]:
    """Every file some installed distribution's RECORD lists, with that distribution's name."""
    owners: dict[Path, str] = {}
    for record in site.glob("*.dist-info/RECORD"):
        dist = record.parent.name.split("-")[0].lower().replace("_", "-")
        with record.open(newline="") as f:
            for row in csv.reader(f):
                if row:
                    owners[(site / row[0]).resolve()] = dist
                    # pip --target moves a prefix's scripts (RECORD: ../../bin/x) to <target>/bin/x.
                    if row[0].startswith("../") and "bin" in Path(row[0]).parts:
                        owners[(site / "bin" / Path(row[0]).name).resolve()] = dist
    return owners


def _runs_code(pth: Path) -> bool:
    """A .pth line that starts with ``import`` is executed by ``site`` at every start."""
    lines = pth.read_text(errors="replace").splitlines()
    return any(line.startswith(("import ", "import\t")) for line in lines)


def scan_site(site: Path) -> list[Finding]:
    owners = _owners(site)
    found: list[Finding] = []
    for path in sorted(p for p in site.rglob("*") if p.is_file()):
        rel = path.relative_to(site)
        owner = owners.get(path.resolve())
        if "__pycache__" in rel.parts or (len(rel.parts) == 1 and rel.name in ENV_TOOL_FILES):
            continue
        if rel.name in STARTUP_HOOKS:
            found.append(
                Finding(
                    path,
                    f"{rel.name} runs at every Python start (owned by {owner or 'no package'})",
                )
            )
        elif rel.suffix == ".pth" and _runs_code(path) and KNOWN_PTH.get(rel.name) != owner:
            found.append(
                Finding(
                    path,
                    f"a .pth file that runs code at every Python start (owned by "
                    f"{owner or 'no package'})",
                )
            )
        elif owner is None:
            found.append(Finding(path, "no installed package's RECORD lists it"))
    return found


def scan(env_dir: Path) -> list[Finding]:
    """Every suspicious file in the environment's site-packages; the environment's Python is never
    run."""
    return [f for site in site_packages(env_dir) for f in scan_site(site)]


def refuse_if_implanted(env_dir: Path, label: str) -> None:
    found = scan(env_dir)
    if found:
        listed = "; ".join(f"{f.path} ({f.why})" for f in found[:5])
        raise HarnessError(
            f"the environment for {label} holds {len(found)} file(s) that could run code at "
            f"Python start or that no package accounts for: {listed}. The gate stops before "
            f"anything runs in it. Inspect and delete {env_dir} yourself; the harness leaves it "
            "in place as evidence."
        )
