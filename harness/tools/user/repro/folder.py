"""The code of :mod:`harness.tools.user.repro`; what it is for: the package's docstring."""

from __future__ import annotations

import base64
import json
import re
import shutil
from pathlib import Path
from typing import Any

from harness.errors import HarnessError
from harness.plugin.snapshot import REPRO_KEY
from harness.tools.user.repro import replay
from harness.verdict import wirefacts

# -- the folder ------------------------------------------------------------------------------------


def _expected_vs_observed(result: dict[str, Any]) -> str:
    failure = result.get("evidence", {}).get("failure", "")
    lines = [line[2:] for line in failure.splitlines() if line.startswith("E ")]
    return (
        "\n".join(lines[:40])
        or result.get("reason", "")
        or "(see the evidence in the run's report)"
    )


def find(run: dict[str, Any], wanted: str) -> list[dict[str, Any]]:
    """The run's failing or deviating checks named by ``wanted``: a node id, a check name or a
    requirement id."""
    bad = [r for r in run["results"] if r["outcome"] in ("fail", "error", "deviation")]
    hits = [r for r in bad if wanted in (r["nodeid"], r["name"], r["requirement"])]
    if not hits:
        named = sorted({r["requirement"] for r in bad})
        raise HarnessError(
            f"no failing or deviating check named {wanted!r} in this run; failing requirements: "
            f"{', '.join(named) or 'none'}"
        )
    return hits


def folder_name(result: dict[str, Any]) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", f"{result['requirement']}-{result['name']}").strip("-")[
        :120
    ]


def write_folder(run: dict[str, Any], result: dict[str, Any], dest: Path) -> Path:
    """One self-contained repro folder for ``result``; a HarnessError when the run kept no wire for
    it."""
    wire = result.get("repro")
    gateways = run["info"].get("gateways") or {}
    if not wire or wire["gateway"] not in gateways:
        raise HarnessError(
            f"{result['nodeid']}: the run kept no wire for this check (it ran against a gateway "
            "the harness did not build, or before repro snapshots existed); "
            "re-run it with the suite"
        )
    gateway = gateways[wire["gateway"]]
    dest.mkdir(parents=True, exist_ok=True)
    (dest / "config.yaml").write_text(gateway["config_yaml"])
    for name, text in gateway["files"].items():
        (dest / name).write_text(text)
    shutil.copyfile(Path(replay.__file__), dest / "repro.py")
    shutil.copyfile(Path(wirefacts.__file__), dest / "wirefacts.py")
    data = {
        "check": result["nodeid"],
        "requirement": result["requirement"],
        "level": result["level"],
        "expected_vs_observed": _expected_vs_observed(result),
        "env": gateway["env"],
        "files": sorted(gateway["files"]),
        "versions": _versions(run),
        **wire,
    }
    (dest / "repro.json").write_text(json.dumps(data, indent=1))
    _write_requests(dest, wire["exchanges"])
    _write_answers(dest, wire["provider_answers"])
    (dest / "README.md").write_text(_readme(run, result, data))
    return dest


def _versions(run: dict[str, Any]) -> dict[str, str]:
    info = run["info"]
    return {
        "litellm": info["litellm_version"],
        "python": info["python_version"],
        "suite": info["suite_revision"],
        "claude_code": info.get("claude_code") or ", ".join(info.get("claude_code_profiles") or []),
        "settings": (info.get("settings") or {}).get("profile", "defaults"),
    }


def _write_requests(dest: Path, exchanges: list[dict[str, Any]]) -> None:
    lines = [
        "#!/bin/sh",
        "# The check's requests, for a gateway on $GATEWAY (default http://127.0.0.1:4000).",
        'GATEWAY="${GATEWAY:-http://127.0.0.1:4000}"',
    ]
    for n, ex in enumerate(exchanges):
        args = " ".join(
            f"-H '{k}: {v}'" for k, v in ex["headers"].items() if k.lower() != "content-length"
        )
        if ex["body"] is not None:
            (dest / f"request-{n}.json").write_bytes(base64.b64decode(ex["body"]))
            args += f" --data-binary @request-{n}.json"
        lines.append(f'curl -sS -N -X {ex["method"]} "$GATEWAY{ex["path"]}" {args}; echo')
    (dest / "request.sh").write_text("\n".join(lines) + "\n")


def _write_answers(dest: Path, answers: list[dict[str, Any]]) -> None:
    for n, answer in enumerate(answers):
        body = b"".join(base64.b64decode(c) for c in answer["chunks"])
        suffix = "txt" if body[:1] not in (b"{", b"[") else "json"
        (dest / f"provider-answer-{n}.{suffix}").write_bytes(body)


def _readme(run: dict[str, Any], result: dict[str, Any], data: dict[str, Any]) -> str:
    req: dict[str, Any] = next(
        (r for r in run["requirements"] if r["id"] == result["requirement"]), {}
    )
    versions = "\n".join(f"- {k}: {v}" for k, v in data["versions"].items())
    faults = sorted({a["fault"] for a in data["provider_answers"] if a.get("fault")})
    gateway = str(data["versions"].get("litellm", ""))
    python, starts = (
        ("python-with-litellm", "LiteLLM")
        if not gateway.startswith("reference")
        else (
            "python-with-this-harness",
            f"the harness's reference gateway ({gateway}: the same faults, "
            "`python -m harness.gateway.reference`)",
        )
    )
    return f"""# {result["requirement"]} ({result["level"]}): {req.get("statement", "")}

Check: `{result["nodeid"]}`, outcome **{result["outcome"]}**. Source: {req.get("source", "")} {
        req.get("url", "")
    }

## Run it

    python3 repro.py --python /path/to/{python}

It starts a stand-in provider on 127.0.0.1 answering with the recorded answers \
(`provider-answer-*`), starts
{starts} with `config.yaml`, sends the check's requests (`request.sh`, `request-*.json`) and \
compares what
comes back, and what the provider receives, with what was seen when the check failed. \
Exit 1: reproduced.
`python3 repro.py --serve-provider` runs only the provider, to aim another gateway at.

## Expected vs observed

```
{data["expected_vs_observed"]}
```

## Versions

{versions}
{
        f'''
Note: the check scripted a transport fault ({', '.join(faults)}); the stand-in provider '''
        '''replays the bytes,
not the fault.'''
        if faults
        else ""
    }
Nothing here is a real credential: the provider keys are the harness's fakes, and the gateway's \
master key
is `{REPRO_KEY}`.
"""
