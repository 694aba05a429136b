"""The code of :mod:`harness.tapes`; what it is for: the package's docstring."""

from __future__ import annotations

import copy
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from vcr.persisters.filesystem import (
    CassetteDecodeError,
    CassetteNotFoundError,
    FilesystemPersister,
)
from vcr.request import Request
from vcr.serializers import yamlserializer

from harness.errors import HarnessError

DIRECTORY = Path(__file__).resolve().parents[2] / "cassettes"
PROVIDERS = ("anthropic", "openai", "bedrock")
# Live recordings other projects published sit in a folder per source, ``live/<source>/<name>``,
# and name their provider in their provenance (issue 40).
LIVE = "live"
PROVENANCE = (
    "recorded_at",
    "base_url",
    "provider",
    "provider_model",
    "harness_revision",
    "recorded_by",
)


class CassetteError(HarnessError):
    """A cassette that cannot be used; the message names the file and what is wrong."""


@dataclass
class Interaction:
    request: Request
    response: dict[str, Any]

    @property
    def status(self) -> int:
        return int(self.response["status"]["code"])

    @property
    def headers(self) -> dict[str, str]:
        return {
            k.lower(): ", ".join(v) if isinstance(v, list) else str(v)
            for k, v in (self.response.get("headers") or {}).items()
        }

    @property
    def body(self) -> bytes:
        raw = (self.response.get("body") or {}).get("string", b"")
        return raw if isinstance(raw, bytes) else str(raw).encode()

    def chunks(self, speed: float = 1.0) -> list[tuple[float, bytes]] | None:
        """The body as it was streamed: (pause before, bytes); None for a body sent in one piece."""
        timing = self.response.get("chunks")
        if not timing:
            return None
        body, out, at = self.body, [], 0
        for pause, length in timing:
            out.append((float(pause) / speed, body[at : at + int(length)]))
            at += int(length)
        if at < len(body):
            out.append((0.0, body[at:]))
        return out


@dataclass
class Tape:
    """One cassette: a scenario's interactions and where they came from."""

    name: str  # "<provider>/<scenario>"
    interactions: list[Interaction]
    provenance: dict[str, Any] = field(default_factory=dict)

    @property
    def provider(self) -> str:
        if self.name.startswith(LIVE + "/"):
            return str(self.provenance.get("provider", ""))
        return self.name.split("/", 1)[0]

    @property
    def live(self) -> bool:
        """An imported recording of the real provider's answer (``cassettes/live/``)."""
        return self.name.startswith(LIVE + "/")

    @property
    def path(self) -> Path:
        return path_for(self.name)


def path_for(name: str, root: Path | None = None) -> Path:
    return (root or DIRECTORY) / f"{name}.yaml"


def _name_of(path: Path) -> str:
    if path.parent.parent.name == LIVE:
        return f"{LIVE}/{path.parent.name}/{path.stem}"
    return f"{path.parent.name}/{path.stem}"


def load(name_or_path: str | Path, root: Path | None = None) -> Tape:
    """A cassette by name ("anthropic/text") or path; a CassetteError says what is wrong with it."""
    path = (
        Path(name_or_path)
        if str(name_or_path).endswith(".yaml")
        else path_for(str(name_or_path), root)
    )
    try:
        requests, responses, *meta = FilesystemPersister.load_cassette(path, yamlserializer)
    except CassetteNotFoundError:
        raise CassetteError(
            f"no cassette {path} (empty or missing); `python -m harness cassettes list` "
            "shows the recorded scenarios"
        ) from None
    except (
        CassetteDecodeError,
        yaml.YAMLError,
        ValueError,
        KeyError,
        TypeError,
        AttributeError,
    ) as exc:
        raise CassetteError(
            f"{path}: not a readable vcrpy cassette (corrupt or truncated?): {exc}"
        ) from None
    tape = Tape(
        _name_of(path),
        [Interaction(q, r) for q, r in zip(requests, responses, strict=True)],
        dict((meta[0] if meta else {}).get("provenance") or {}),
    )
    _validate(tape, path)
    return tape


def _validate(tape: Tape, path: Path) -> None:
    if tape.provider not in PROVIDERS:
        raise CassetteError(
            f"{path}: cassettes of provider {tape.provider!r} cannot be replayed: the fakes "
            f"serve {', '.join(PROVIDERS)}"
        )
    missing = [k for k in PROVENANCE if not tape.provenance.get(k)]
    if missing:
        raise CassetteError(
            f"{path}: the cassette has no provenance ({', '.join(missing)} missing); "
            "record it with `python -m harness record`"
        )
    if not tape.interactions:
        raise CassetteError(f"{path}: the cassette holds no interaction")


def save(tape: Tape, root: Path | None = None) -> Path:
    """Write atomically: a failure leaves the previous cassette as it was."""
    path = path_for(tape.name, root)
    path.parent.mkdir(parents=True, exist_ok=True)
    # vcrpy's serializer turns bodies into text in place; the tape in memory keeps its bytes.
    data = {
        "requests": [copy.deepcopy(i.request) for i in tape.interactions],
        "responses": [copy.deepcopy(i.response) for i in tape.interactions],
        "metadata": {"provenance": tape.provenance},
    }
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".yaml.part", dir=path.parent)
    os.close(fd)
    try:
        FilesystemPersister.save_cassette(tmp, data, yamlserializer)
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return path


def names(root: Path | None = None) -> list[str]:
    """Every cassette's name, by provider then scenario."""
    base = root or DIRECTORY
    found = [*base.glob("*/*.yaml"), *base.glob(f"{LIVE}/*/*.yaml")]
    return sorted(_name_of(p) for p in found if p.name != "SOURCE.yaml")
