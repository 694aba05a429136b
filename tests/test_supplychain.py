"""The supply-chain guard, tried on fake wheels built here: never on the real compromised
releases."""

from __future__ import annotations

import base64
import hashlib
import zipfile
from pathlib import Path

import pytest

from harness.errors import HarnessError
from harness.tools import envs as matrix
from harness.tools import supplychain
from harness.tools.supplychain import (
    InstalledFile,
    compromised_list,
    install_by_hash,
    refuse_compromised,
    scan_site,
)


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def build_wheel(
    directory: Path, extra: dict[str, str] | None = None, name: str = "fakepkg"
) -> InstalledFile:
    """A minimal pure-Python wheel, with ``extra`` files at the top of site-packages."""
    files = {f"{name}/__init__.py": "VALUE = 1\n", **(extra or {})}
    info = f"{name}-1.0.dist-info"
    files[f"{info}/METADATA"] = f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n"
    files[f"{info}/WHEEL"] = (
        "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    )
    record = [_record_line(n, d.encode()) for n, d in files.items()] + [f"{info}/RECORD,,"]
    files[f"{info}/RECORD"] = "\n".join(record) + "\n"
    path = directory / f"{name}-1.0-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as wheel:
        for n, d in files.items():
            wheel.writestr(n, d)
    return InstalledFile(path.name, supplychain.sha256(path))


def installed(tmp_path: Path, extra: dict[str, str] | None = None) -> Path:
    wheels, site = tmp_path / "wheels", tmp_path / "site"
    wheels.mkdir()
    install_by_hash(site, wheels, [build_wheel(wheels, extra)])
    return site


def test_a_clean_wheel_leaves_nothing_to_report(tmp_path):
    site = installed(tmp_path, {"fakepkg_paths.pth": "fakepkg_extra\n"})  # a path line runs nothing
    assert (site / "fakepkg" / "__init__.py").exists()
    assert scan_site(site) == []


@pytest.mark.parametrize(
    ("name", "text", "why"),
    [
        (
            "litellm_init.pth",
            "import os; os.environ.get('HOME')\n",
            "runs code at every Python start",
        ),
        ("cook.pth", "import\tsys\n", "runs code at every Python start"),
        ("sitecustomize.py", "print('hello')\n", "sitecustomize.py runs at every Python start"),
        ("usercustomize.py", "print('hello')\n", "usercustomize.py runs at every Python start"),
    ],
    ids=["import-pth", "tab-import-pth", "sitecustomize", "usercustomize"],
)
def test_a_startup_implant_in_a_wheel_is_found_and_named(tmp_path, name, text, why):
    found = scan_site(installed(tmp_path, {name: text}))
    assert [(f.path.name, why in f.why) for f in found] == [(name, True)]
    assert "fakepkg" in found[0].why  # the owning distribution is named


def test_a_wheels_scripts_installed_with_target_are_accounted_for(tmp_path):
    """pip --target moves scripts (RECORD: ../../bin/x) to <target>/bin/x; they belong to their
    package."""
    site = installed(tmp_path, {"fakepkg-1.0.data/scripts/fakepkg-tool": "#!python\nprint(1)\n"})
    assert (site / "bin" / "fakepkg-tool").exists()
    assert scan_site(site) == []


def test_a_file_no_record_lists_is_found(tmp_path):
    site = installed(tmp_path)
    (site / "dropped.py").write_text("x = 1\n")
    found = scan_site(site)
    assert [(f.path.name, f.why) for f in found] == [
        ("dropped.py", "no installed package's RECORD lists it")
    ]


def test_a_tampered_wheel_is_refused_by_its_hash(tmp_path):
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    recorded = build_wheel(wheels)
    with zipfile.ZipFile(wheels / recorded.name, "a") as wheel:
        wheel.writestr("fakepkg/added.py", "x = 2\n")
    with pytest.raises(HarnessError, match="installing by hash"):
        install_by_hash(tmp_path / "site", wheels, [recorded])
    assert not (tmp_path / "site" / "fakepkg").exists()


@pytest.mark.parametrize("entry", compromised_list(), ids=lambda e: f"{e.package}-{e.version}")
def test_every_known_compromised_release_is_refused_with_its_source(entry):
    assert entry.source
    with pytest.raises(HarnessError) as info:
        refuse_compromised(entry.package, entry.version)
    assert entry.source in str(info.value)
    assert entry.version in str(info.value)


def test_the_release_before_a_compromised_one_is_not_refused():
    assert refuse_compromised("litellm", "1.82.6") is None
    with pytest.raises(HarnessError):
        refuse_compromised("litellm", "1.82.7")  # and the one after it is: the list is what decides


def test_the_matrix_refuses_a_compromised_release_before_creating_anything(tmp_path, monkeypatch):
    monkeypatch.setattr(
        matrix, "_create", lambda env_dir: pytest.fail("an environment was created")
    )
    with pytest.raises(HarnessError, match="published compromised"):
        matrix.environment("1.82.8", cache=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_an_implanted_environment_stops_the_matrix_and_is_kept_for_inspection(
    tmp_path, monkeypatch
):
    def implant(env_dir: Path, version: str):
        site = env_dir / "lib/python3.11/site-packages"
        install_by_hash(site, *_one_wheel(tmp_path, {"cook.pth": "import os\n"}))
        return "litellm[proxy]", [], {}

    monkeypatch.setattr(
        matrix,
        "_create",
        lambda env_dir: (env_dir / "lib/python3.11/site-packages").mkdir(parents=True),
    )
    monkeypatch.setattr(matrix, "_install_pinned", implant)
    with pytest.raises(HarnessError, match=r"cook\.pth") as info:
        matrix.environment("1.2.3", cache=tmp_path / "cache")
    assert "stops before anything runs" in str(info.value)
    assert not (tmp_path / "cache/1.2.3/.complete").exists()
    assert (tmp_path / "cache/1.2.3/lib/python3.11/site-packages/cook.pth").exists()


def test_a_cached_environment_is_scanned_again_before_reuse(tmp_path):
    env_dir = tmp_path / "cache" / "1.2.3"
    site = env_dir / "lib/python3.11/site-packages"
    site.mkdir(parents=True)
    (env_dir / ".complete").write_text("litellm[proxy]")
    (site / "sitecustomize.py").write_text("print('x')\n")
    with pytest.raises(HarnessError, match=r"sitecustomize\.py"):
        matrix.environment("1.2.3", cache=tmp_path / "cache")


def _one_wheel(tmp_path: Path, extra: dict[str, str]) -> tuple[Path, list[InstalledFile]]:
    wheels = tmp_path / "implant-wheels"
    wheels.mkdir(exist_ok=True)
    return wheels, [build_wheel(wheels, extra)]
