"""``python -m harness cassettes import``: live provider recordings other projects published,
copied into ``cassettes/live/<source>/`` with their provenance (issue 40).

Each source folder has a ``SOURCE.yaml`` manifest: the repository, the commit, the licence and,
per recording, the upstream path, the provider and why the file is judged a live recording (its
ids, signatures, padding, date). The importer reads the files from a local clone at that commit
(this project's machines reach no network at run time), keeps the answer's bytes, and writes
what it had to change into the cassette's provenance. The manifest keeps a digest of the
answers, so ``cassettes audit`` notices a recording edited after its import.

Two upstream formats:

- ``vcrpy`` (pydantic-ai): the cassettes are vcrpy's already. pydantic-ai stores a JSON body
  parsed (``parsed_body``); it is written back as compact JSON, as the APIs send it, and the
  provenance says so. Streamed bodies (``string``) are kept byte for byte.
- ``chunks`` (vercel/ai): one parsed ``data`` payload per line. They are re-framed as the
  provider frames them (Anthropic's ``event:`` and ``data:`` lines; OpenAI's ``data:`` lines
  and ``[DONE]``), so they are *derived*, and say so.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from vcr.request import Request

from harness import tapes as cassettes
from harness.errors import HarnessError

MANIFEST = "SOURCE.yaml"
RECORDING_KEYS = ("name", "path", "provider", "shapes", "live")
PROVENANCE_KEYS = (
    "source",
    "repository",
    "upstream_path",
    "commit",
    "licence",
    "kind",
    "changes",
    "origin",
    "shapes",
    "sha256",
)
BASE_URLS = {
    "anthropic": "https://api.anthropic.com",
    "openai": "https://api.openai.com",
    "bedrock": "https://bedrock-runtime.us-east-1.amazonaws.com",
}
# Request headers a provider needs to take the request as its own; the rest is the SDK's noise.
KEPT_REQUEST = ("content-type", "accept", "anthropic-version", "anthropic-beta")
KEPT_RESPONSE = ("content-type", "cache-control", "x-amzn-errortype")


class ImportError_(HarnessError):
    """A manifest or upstream file that cannot be imported; the message says which and why."""


@dataclass(frozen=True)
class Source:
    folder: Path
    data: dict[str, Any]

    @property
    def name(self) -> str:
        return self.folder.name

    @property
    def recordings(self) -> list[dict[str, Any]]:
        return list(self.data.get("recordings") or [])


def sources(root: Path | None = None) -> list[Source]:
    base = (root or cassettes.DIRECTORY) / cassettes.LIVE
    return [read_manifest(p.parent) for p in sorted(base.glob(f"*/{MANIFEST}"))]


def read_manifest(folder: Path) -> Source:
    path = folder / MANIFEST
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    missing = [k for k in ("repository", "commit", "licence", "format") if not data.get(k)]
    missing += [
        f"recordings[{n}].{k}"
        for n, r in enumerate(data.get("recordings") or [])
        for k in RECORDING_KEYS
        if not r.get(k)
    ]
    if missing:
        raise ImportError_(f"{path}: the manifest lacks {', '.join(missing)}")
    return Source(folder, data)


def digest(tape: cassettes.Tape) -> str:
    """The answers' bytes, status and content type: what an import must keep."""
    h = hashlib.sha256()
    for i in tape.interactions:
        h.update(f"{i.status} {i.headers.get('content-type', '')}\n".encode())
        h.update(i.body)
    return h.hexdigest()


def import_source(source: Source, clone: Path) -> list[Path]:
    """Import every recording of ``source`` from ``clone``; the manifest's digests are updated."""
    written = []
    for recording in source.recordings:
        tape = _tape(source, recording, clone)
        recording["sha256"] = tape.provenance["sha256"]
        written.append(cassettes.save(tape, source.folder.parent.parent))
    (source.folder / MANIFEST).write_text(
        yaml.safe_dump(source.data, sort_keys=False, width=100, allow_unicode=True),
        encoding="utf-8",
    )
    return written


def _git(clone: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(clone), *args], capture_output=True, check=False)
    if done.returncode:
        raise ImportError_(
            f"git {' '.join(args)} in {clone}: {done.stderr.decode(errors='replace').strip()}"
        )
    return done.stdout.decode("utf-8", "replace")


def _tape(source: Source, rec: dict[str, Any], clone: Path) -> cassettes.Tape:
    commit, path = str(source.data["commit"]), str(rec["path"])
    text = _git(clone, "show", f"{commit}:{path}")
    fmt = str(source.data["format"])
    if fmt == "vcrpy":
        interactions, changes = _from_vcrpy(text, str(rec["provider"]))
    elif fmt == "chunks":
        interactions, changes = _from_chunks(text, rec)
    else:
        raise ImportError_(f"{source.folder / MANIFEST}: unknown format {fmt!r}")
    last = _git(clone, "log", "-1", "--format=%H %cs", commit, "--", path).split()
    tape = cassettes.Tape(f"{cassettes.LIVE}/{source.name}/{rec['name']}", interactions)
    tape.provenance = {
        "source": source.name,
        "repository": source.data["repository"],
        "upstream_path": path,
        "commit": commit,
        "blob": _git(clone, "rev-parse", f"{commit}:{path}").strip(),
        "licence": f"{source.data['licence']}; see cassettes/live/{source.name}/LICENSE and NOTICE",
        "kind": "derived" if fmt == "chunks" else "live",
        "changes": "; ".join([*changes, *([rec["changes"]] if rec.get("changes") else [])]),
        "origin": rec["live"],
        "shapes": list(rec["shapes"]),
        "recorded_at": (
            f"{last[1]} or shortly before: the upstream commit that last changed it ({last[0]})"
            if last
            else "unknown"
        ),
        "base_url": BASE_URLS[str(rec["provider"])],
        "provider": rec["provider"],
        "provider_model": _model(interactions),
        "harness_revision": "imported, not recorded by this harness",
        "recorded_by": f"{source.data['repository']} {path} at commit {commit}",
        "match_on": ["method", "path"],
    }
    tape.provenance["sha256"] = digest(tape)
    return tape


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _headers(raw: dict[str, Any] | None, kept: tuple[str, ...]) -> dict[str, list[str]]:
    out = {}
    for key, values in (raw or {}).items():
        if key.lower() in kept:
            out[key.lower()] = [
                _text(v) for v in (values if isinstance(values, list) else [values])
            ]
    return out


def _from_vcrpy(text: str, provider: str) -> tuple[list[cassettes.Interaction], list[str]]:
    data = yaml.load(text, Loader=yaml.Loader)
    changes = [
        "of the request's headers only "
        + "/".join(KEPT_REQUEST)
        + " kept, and of the response's "
        + "/".join(KEPT_RESPONSE)
        + " (the rest is the SDK's and the CDN's)"
    ]
    out = []
    for n, raw in enumerate(data["interactions"]):
        q, r = raw["request"], raw["response"]
        body = q.get("body")
        if body is None and "parsed_body" in q:
            body = json.dumps(q["parsed_body"])
            _note(changes, "the request's parsed_body (pydantic-ai stores it parsed) written back")
        headers = _headers(q.get("headers"), KEPT_REQUEST)
        if provider == "anthropic" and "anthropic-version" not in headers:
            # pydantic-ai's cassettes drop every anthropic-* request header; the API refuses a
            # request without it (ANTH-VER-001) and the SDK always sends 2023-06-01.
            headers["anthropic-version"] = ["2023-06-01"]
            _note(changes, "anthropic-version: 2023-06-01 put back on the request")
        response_body = (r.get("body") or {}).get("string")
        if response_body is None and "parsed_body" in r:
            response_body = json.dumps(r["parsed_body"], separators=(",", ":"), ensure_ascii=False)
            _note(
                changes,
                f"interaction {n}: the answer's parsed_body written back as compact JSON, as the "
                "API sends it (pydantic-ai stores JSON answers parsed)",
            )
        request = Request(q["method"], q["uri"], _text(body or ""), headers)
        response = {
            "status": r["status"],
            "headers": _headers(r.get("headers"), KEPT_RESPONSE),
            "body": {"string": response_body if response_body is not None else ""},
        }
        out.append(cassettes.Interaction(request, response))
    return out, changes


def _note(changes: list[str], text: str) -> None:
    if text not in changes:
        changes.append(text)


def _from_chunks(text: str, rec: dict[str, Any]) -> tuple[list[cassettes.Interaction], list[str]]:
    payloads = [line for line in text.splitlines() if line.strip()]
    framing = str(rec.get("reframe", ""))
    if framing == "anthropic-sse":
        body = "".join(f"event: {json.loads(p)['type']}\ndata: {p}\n\n" for p in payloads)
        path, what = "/v1/messages", "Anthropic's `event: <type>` and `data:` lines"
    elif framing == "openai-chat-sse":
        body = "".join(f"data: {p}\n\n" for p in payloads) + "data: [DONE]\n\n"
        path, what = "/v1/chat/completions", "OpenAI's `data:` lines and a final `data: [DONE]`"
    else:
        raise ImportError_(
            f"recording {rec['name']}: reframe must be anthropic-sse or openai-chat-sse"
        )
    request = Request("POST", BASE_URLS[str(rec["provider"])] + path, "", {})
    response = {
        "status": {"code": 200, "message": "OK"},
        "headers": {"content-type": ["text/event-stream; charset=utf-8"]},
        "body": {"string": body},
    }
    changes = [
        "re-framed: each line's payload (the upstream keeps only the parsed data) framed with "
        + what,
        "the API's whitespace padding inside data lines is not in the upstream file, so not here",
        "the request was not recorded upstream: an empty POST stands for it",
    ]
    return [cassettes.Interaction(request, response)], changes


def _model(interactions: list[cassettes.Interaction]) -> str:
    for i in interactions:
        found = re.search(rb'"model"\s*:\s*"([^"]+)"', i.body)
        if found:
            return found.group(1).decode()
    for i in interactions:
        path = re.search(r"/model/([^/]+)/", i.request.uri)
        if path:
            return path.group(1).replace("%3A", ":")
    return "unknown"


# -- audit ----------------------------------------------------------------------------------------


def audit(root: Path | None = None) -> tuple[int, list[str]]:
    """Every live recording against its manifest: provenance complete and agreeing, the answers'
    digest unchanged, the licence and the NOTICE there, and no cassette without a manifest row."""
    base = root or cassettes.DIRECTORY
    problems: list[str] = []
    seen: set[str] = set()
    notice = (
        (base.parent / "NOTICE").read_text(encoding="utf-8")
        if (base.parent / "NOTICE").exists()
        else ""
    )
    count = 0
    for source in sources(base):
        if not (source.folder / "LICENSE").exists():
            problems.append(f"{source.folder}: no LICENSE file for {source.data['repository']}")
        if str(source.data["repository"]) not in notice:
            problems.append(f"NOTICE does not name {source.data['repository']}")
        for rec in source.recordings:
            name = f"{cassettes.LIVE}/{source.name}/{rec['name']}"
            seen.add(name)
            count += 1
            problems += [f"{name}: {p}" for p in _audit_one(name, source, rec, base)]
    strays = [
        n for n in cassettes.names(base) if n.startswith(cassettes.LIVE + "/") and n not in seen
    ]
    problems += [f"{n}: a live cassette no SOURCE.yaml lists" for n in strays]
    return count, problems


def _audit_one(name: str, source: Source, rec: dict[str, Any], base: Path) -> list[str]:
    try:
        tape = cassettes.load(name, base)
    except cassettes.CassetteError as exc:
        return [str(exc)]
    p = tape.provenance
    out = [f"provenance lacks {k}" for k in PROVENANCE_KEYS if not p.get(k)]
    expected = {
        "commit": source.data["commit"],
        "upstream_path": rec["path"],
        "provider": rec["provider"],
        "repository": source.data["repository"],
    }
    out += [
        f"provenance {k} is {p.get(k)!r}, the manifest says {v!r}"
        for k, v in expected.items()
        if p.get(k) != v
    ]
    if digest(tape) != p.get("sha256") or p.get("sha256") != rec.get("sha256"):
        out.append("its answers changed since the import (sha256 differs); re-import, never edit")
    return out
