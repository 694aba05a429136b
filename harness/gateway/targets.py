"""What the suite runs against: the real LiteLLM, the reference gateway, or any gateway URL.

``--gateway-impl litellm`` (default) starts LiteLLM subprocesses;
``--gateway-impl reference[:fault,fault]`` runs the in-process reference gateway,
optionally with deliberate faults; ``--gateway-url URL`` is black-box mode: the
gateway is someone else's, its providers are real, and only the checks that
need no provider journal (marked ``blackbox``) run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

from harness.gateway.configs import GatewayConfig
from harness.gateway.reference.config import CAPABILITIES as REFERENCE_CAPABILITIES
from harness.netguard import is_loopback_host

# "litellm": the check judges LiteLLM-specific config semantics; "openai": it needs
# translation to OpenAI; "config": it reads the gateway's config; "journal": the
# provider journal or a scripted provider reply.
ALL_CAPABILITIES = frozenset(
    {"anthropic", "openai", "bedrock", "vertex", "litellm", "config", "journal"}
)


class Target(Protocol):
    gateway: GatewayConfig
    version: str
    config_path: Path
    startup_seconds: float

    @property
    def url(self) -> str: ...

    @property
    def master_key(self) -> str | None: ...

    @property
    def returncode(self) -> int | None: ...

    def alive(self) -> bool: ...

    def log_size(self) -> int: ...

    def log_text(self, since: int = 0) -> str: ...

    def log_tail(self, lines: int = 30) -> str: ...

    def stop(self) -> None: ...


@dataclass(frozen=True)
class Impl:
    kind: str  # "litellm", "reference" or "black-box"
    faults: frozenset[str] = frozenset()
    url: str = ""
    key: str | None = None

    @property
    def capabilities(self) -> frozenset[str]:
        if self.kind == "reference":
            return REFERENCE_CAPABILITIES | {"config", "journal"}
        if self.kind == "black-box":
            return frozenset({"anthropic"})
        return ALL_CAPABILITIES

    @property
    def label(self) -> str:
        if self.kind == "reference" and self.faults:
            return f"reference:{','.join(sorted(self.faults))}"
        return self.url if self.kind == "black-box" else self.kind


def parse_impl(text: str, url: str | None, key: str | None) -> Impl:
    if url:
        if not is_loopback_host(urlsplit(url).hostname or ""):
            raise ValueError(
                f"--gateway-url {url}: the suite only talks to loopback. Forward the gateway's "
                "port first (e.g. `ssh -L 4000:gateway:4000 host`) and use http://127.0.0.1:4000"
            )
        return Impl("black-box", url=url.rstrip("/"), key=key)
    kind, _, faults = text.partition(":")
    if kind not in ("litellm", "reference"):
        raise ValueError(
            f"--gateway-impl must be 'litellm' or 'reference[:fault,...]', not {text!r}"
        )
    return Impl(kind, frozenset(f for f in faults.split(",") if f))


@dataclass
class BlackBoxTarget:
    """A gateway the harness did not start; it knows only the URL and the key."""

    url: str
    key: str | None
    version: str = "black-box"
    startup_seconds: float = 0.0
    returncode: int | None = None
    gateway: GatewayConfig = field(init=False)
    config_path: Path = Path("/dev/null")

    def __post_init__(self) -> None:
        self.gateway = GatewayConfig("black-box", {}, master_key=self.key)

    @property
    def master_key(self) -> str | None:
        return self.key

    def alive(self) -> bool:
        return True

    def log_size(self) -> int:
        return 0

    def log_text(self, since: int = 0) -> str:
        return ""

    def log_tail(self, lines: int = 30) -> str:
        return ""

    def stop(self) -> None:
        pass
