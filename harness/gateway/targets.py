"""What the suite runs against: a running gateway (:class:`Target`), whichever driver started it.

``--gateway-impl litellm`` (default) starts LiteLLM subprocesses;
``--gateway-impl reference[:fault,fault]`` runs the in-process reference gateway,
optionally with deliberate faults; ``--gateway-url URL`` is black-box mode: the
gateway is someone else's, its providers are real, and only the checks that
need no provider journal (marked ``blackbox``) run. Each is a driver
(:mod:`harness.gateway.drivers`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from harness.gateway.configs import GatewayConfig


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


def client_headers(target: object) -> dict[str, str]:
    """The headers a gateway needs on every client request (Portkey's routing config, issue 41),
    as its users send them; none for a gateway that needs none."""
    return dict(getattr(target, "client_headers", None) or {})


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
