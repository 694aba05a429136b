"""The catalogue is well-formed, and the coverage listing tells covered from uncovered."""

from __future__ import annotations

import pytest

from harness.errors import HarnessError
from harness.tools.cli import main
from harness.tools.maintainer.catalogue_cli import coverage
from harness.verdict.catalogue import catalogue


def test_every_requirement_has_level_area_statement_and_source():
    for req in catalogue().values():
        assert req.level in ("must", "should", "info")
        assert req.area
        assert req.statement.endswith(".")
        assert req.source.url


def test_checks_cover_every_area_and_some_requirements_are_listed_as_uncovered():
    covered = coverage()
    areas = {r.area for r in catalogue().values()}
    assert areas <= {catalogue()[rid].area for rid in covered}
    assert set(covered) <= set(catalogue())
    assert {"ROUTE-006", "ROUTE-007"} <= set(covered)
    assert "PASS-009" in covered, (
        "a requirement stated only by a provider scenario counts as covered"
    )


def test_catalogue_command_prints_uncovered(capsys, monkeypatch):
    import harness.tools.maintainer.catalogue_cli as cli

    every = coverage()
    monkeypatch.setattr(
        cli, "coverage", lambda: every - type(every)({"ROUTE-007": every["ROUTE-007"]})
    )
    assert main(["catalogue", "--uncovered"]) == 0
    out = capsys.readouterr().out
    assert "ROUTE-007" in out
    assert "1 not covered: ROUTE-007" in out
    assert "AUTH-001 " not in out


def test_malformed_catalogue_is_named(tmp_path):
    bad = tmp_path / "c.yaml"
    bad.write_text(
        "sources: {s: {title: t, url: u}}\nrequirements:\n  - {id: X-1, area: X, level: may, "
        "source: s, statement: x.}\n"
    )
    with pytest.raises(HarnessError, match="X-1 has level 'may'"):
        catalogue.__wrapped__(bad)


def test_every_security_requirement_is_must_level():
    """A failure that opens the door or leaks a key is never a 'should': the verdict blocks on it at
    any level, and the catalogue says so too."""
    from harness.verdict.catalogue import catalogue

    loose = [r.id for r in catalogue().values() if r.security and r.level != "must"]
    assert loose == []
    assert catalogue()["AUTH-008"].security, (
        "the quickstart's config served as an open proxy is a security failure"
    )
