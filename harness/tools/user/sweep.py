"""``python -m harness sweep --line 1.108 [--from 1.108.7]``: the suite once per release of a patch
line, one page.

Each installable release of the line (from ``--from`` on, in version order) gets its guarded
environment and one suite run, stored under the gate's keys (``harness.tools.runstore``): a run the
gate or an earlier sweep made with the same suite, catalogue and arguments is reused, not repeated.
Each release is judged against the one before it by the gate's classes, per check; a requirement's
cell is the worst class of its checks. The page (``reports/sweep/sweep.html``) is requirements x
releases, so a team on a long-term-support line sees which patch fixed what and which broke
something. Each column links the release's notes: a file the user passes (``--notes``), else the
release page of the repository the wheel's own metadata names.
"""

from __future__ import annotations

import email.parser
import itertools
import json
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from packaging.version import Version

from harness import yamlio
from harness.errors import HarnessError
from harness.report.render import render_sweep
from harness.tools import envs, runstore
from harness.verdict.classes import SEVERITY
from harness.verdict.runs import cell, compare, load_run


@dataclass
class Options:
    line: str
    start: str | None
    output_dir: Path
    claude_code: list[str]
    notes: Path | None = None
    pytest_args: list[str] | None = None
    store: Path = runstore.STORE


def say(text: str) -> None:
    print(f"sweep: {text}", flush=True)


def releases(line: str, start: str | None, versions: list[str]) -> list[str]:
    """The line's releases from ``start`` (default: its first) to its newest, in version order."""
    own = sorted((v for v in versions if v.startswith(f"{line}.")), key=Version)
    if not own:
        raise HarnessError(f"--line {line}: no release of {line}.x on the index")
    if start is not None and start not in own:
        raise HarnessError(
            f"--from {start}: not a release of the line {line}.x on the index (its releases: "
            f"{', '.join(own)})"
        )
    return own[own.index(start) :] if start else own


def run(options: Options) -> dict[str, Any]:
    started = time.monotonic()
    versions = releases(options.line, options.start, envs.index_versions())
    say(f"{len(versions)} releases of {options.line}.x: {', '.join(versions)}")
    args = [
        *[a for v in options.claude_code for a in ("--claude-code", v)],
        *(options.pytest_args or []),
    ]
    runs, facts, skipped = {}, {}, {}
    for version in versions:
        try:
            env = envs.environment(version)
        except (
            HarnessError
        ) as exc:  # "installable releases": one the guard refuses is named, not run
            skipped[version] = str(exc).splitlines()[0]
            say(f"LiteLLM {version}: skipped, {skipped[version]}")
            continue
        runs[version], facts[version] = _one(env, args, options)
    if not runs:
        raise HarnessError(f"no release of {options.line}.x installed through the guard: {skipped}")
    data = page_data(runs, notes(options.notes, facts))
    data["skipped"] = skipped
    data.update(
        line=options.line,
        claude_code=options.claude_code,
        facts=facts,
        wall_seconds=round(time.monotonic() - started, 1),
    )
    out = options.output_dir
    out.mkdir(parents=True, exist_ok=True)
    (out / "sweep.json").write_text(json.dumps(data, indent=1))
    (out / "sweep.html").write_text(render_sweep(data))
    say(f"wrote {out / 'sweep.html'} and {out / 'sweep.json'} in {data['wall_seconds']:.0f} s")
    return data


def _one(
    env: envs.Environment, args: list[str], options: Options
) -> tuple[dict[str, Any], dict[str, Any]]:
    version = env.version
    key = runstore.key(version, args)
    found = runstore.find(options.store, key)
    fact: dict[str, Any] = {
        "environment": f"built in {env.built_seconds:.0f} s" if env.built_seconds else "cached",
        "repository": _repository(env),
    }
    if found is not None:
        say(f"LiteLLM {version}: stored run reused ({found['info'].get('reused_from')})")
        return found, {**fact, "suite": "reused"}
    report, wall, code = envs.run_suite(env, options.output_dir / "runs" / version, args)
    run_data = load_run(report)
    runstore.store(options.store, key, run_data)
    say(f"LiteLLM {version}: suite {wall:.0f} s (pytest exit {code}), {fact['environment']}")
    return run_data, {**fact, "suite": f"{wall:.0f} s"}


def page_data(
    runs: dict[str, dict[str, Any]], release_notes: dict[str, dict[str, str]]
) -> dict[str, Any]:
    """Requirements x releases: each cell the class against the release before, with the checks that
    moved."""
    versions = list(runs)
    first = runs[versions[0]]
    columns: list[dict[str, Any]] = [
        {
            "version": versions[0],
            "against": None,
            "counts": _outcomes(first),
            "classes": {},
            "notes": release_notes.get(versions[0], {}),
        }
    ]
    cells: dict[str, dict[str, Any]] = {}
    for before, after in itertools.pairwise(versions):
        result = compare(runs[before], runs[after])
        moved = [c for c in result.verdict.checks if c.klass != "same"]
        columns.append(
            {
                "version": after,
                "against": before,
                "counts": _outcomes(runs[after]),
                "classes": dict(Counter(c.klass for c in moved)),
                "notes": release_notes.get(after, {}),
            }
        )
        for change in result.changes:
            mine = [c for c in moved if c.requirement == change.requirement["id"]]
            cells[f"{change.requirement['id']}@{after}"] = {
                "class": change.klass,
                "checks": [
                    f"{c.klass}: {c.nodeid.split('::')[-1]}"
                    + (f" ({'; '.join(c.arrows()[:2])})" if c.arrows() else "")
                    for c in mine
                ],
            }
    rows = [
        {
            "id": r["id"],
            "level": r["level"],
            "statement": r["statement"],
            "first": cell(first, r["id"]),
            "moved": any(
                cells.get(f"{r['id']}@{v}", {}).get("class", "same") != "same" for v in versions[1:]
            ),
        }
        for r in first["requirements"]
    ]
    rows.sort(key=lambda r: (not r["moved"], r["id"]))
    return {
        "releases": versions,
        "columns": columns,
        "rows": rows,
        "cells": cells,
        "severity": list(SEVERITY),
    }


def _outcomes(run: dict[str, Any]) -> dict[str, int]:
    return dict(Counter(r["outcome"] for r in run["results"]))


def _repository(env: envs.Environment) -> str:
    """The repository URL the installed wheel's own metadata names (no network: the file is on
    disk)."""
    for meta in env.python.parent.parent.glob(
        "lib/python*/site-packages/litellm-*.dist-info/METADATA"
    ):
        parsed = email.parser.Parser().parsestr(meta.read_text(errors="replace"), headersonly=True)
        for url in parsed.get_all("Project-URL") or []:
            label, _, link = url.partition(",")
            if label.strip().lower() in ("repository", "source", "source code"):
                return link.strip().rstrip("/")
    return ""


def notes(path: Path | None, facts: dict[str, dict[str, Any]]) -> dict[str, dict[str, str]]:
    """Per release: the user's notes (a YAML file of version: text), else a link to the release's
    page."""
    given: dict[str, Any] = {}
    if path is not None:
        try:
            given = dict(yamlio.load(path.read_text()) or {})
        except (OSError, yaml.YAMLError, TypeError, ValueError) as exc:
            raise HarnessError(
                f"--notes {path}: expected a YAML mapping of version: notes ({exc})"
            ) from None
    out = {}
    for version, fact in facts.items():
        entry = {"text": str(given[version])} if version in given else {}
        if fact.get("repository", "").startswith("https://github.com/"):
            entry["link"] = f"{fact['repository']}/releases/tag/v{version}"
        out[version] = entry
    return out
