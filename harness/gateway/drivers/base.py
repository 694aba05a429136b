"""The code of :mod:`harness.gateway.drivers`; what it is for: the package's docstring."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from harness.errors import HarnessError
from harness.gateway.configs import GatewayConfig
from harness.gateway.process import READY_PATH
from harness.gateway.targets import Target
from harness.netguard import is_loopback_host

_REGISTRY: dict[str, Driver] = {}


@dataclass(frozen=True)
class Impl:
    """What this run judges: a driver's gateway, with the run's faults, URL and key."""

    kind: str  # the driver's name: "litellm", "reference", "black-box", ...
    faults: frozenset[str] = frozenset()
    url: str = ""
    key: str | None = None

    @property
    def driver(self) -> Driver:
        return driver(self.kind)

    @property
    def capabilities(self) -> frozenset[str]:
        return self.driver.capabilities

    @property
    def label(self) -> str:
        return self.driver.label(self)


@dataclass
class Launch:
    """What a driver needs to start gateways: the pool's settings for this run."""

    impl: Impl
    root: Path
    timeout: float
    python: str = ""
    port: int | None = None
    launch: str = "fork"
    extra_faults: frozenset[str] = field(default_factory=frozenset)


class Driver:
    """One gateway implementation. Subclasses set ``name`` and ``capabilities`` and start their
    gateways in :meth:`start`."""

    name: str = ""
    title: str = ""  # how a report names it before its version ("LiteLLM 1.108.7")
    capabilities: frozenset[str] = frozenset()
    # Whether the reference gateway's faults apply (the kill matrix runs on such a driver only).
    takes_faults = False
    # The deviations files' prefix (harness/verdict/deviations/<prefix>-<version>.yaml); "" for a
    # driver whose runs are held to no file.
    deviations_prefix = ""
    # Whether its gateways start from a fork server the plugin warms up while the run collects.
    forks = False
    # A gateway the harness neither starts nor configures, with real providers behind it: only the
    # checks marked ``blackbox`` (no journal, the default config) apply.
    blackbox_only = False
    # A path that answers 200 while the gateway lives, with no key and no provider call.
    liveness_path = READY_PATH  # LiteLLM's /health/liveliness, which the reference serves too

    def label(self, impl: Impl) -> str:
        return self.name

    def version(self, python: str | None = None) -> str:
        """The version of the gateway a run would start (``python``: LiteLLM's interpreter), which
        names its deviations file; a HarnessError when it cannot be told."""
        return self.name

    def start(
        self, configs: list[GatewayConfig], how: Launch
    ) -> tuple[dict[str, Target], dict[str, HarnessError]]:
        """Start a gateway per config: the running ones, and the error of each that failed. By
        default one after the other (:meth:`start_one`); LiteLLM's start together."""
        return start_each(configs, lambda config: self.start_one(config, how))

    def start_one(self, config: GatewayConfig, how: Launch) -> Target:
        """Start one gateway; a HarnessError says why it could not, with its log tail."""
        raise NotImplementedError

    def set_faults(self, target: Target, faults: frozenset[str]) -> None:
        """Switch a running gateway's faults (only drivers that take faults)."""
        raise HarnessError(f"the {self.name} gateway has no faults")


def start_each(
    configs: list[GatewayConfig], start: Callable[[GatewayConfig], Target]
) -> tuple[dict[str, Target], dict[str, HarnessError]]:
    """``start`` each config in turn: the running gateways, and the error of each that failed."""
    started: dict[str, Target] = {}
    errors: dict[str, HarnessError] = {}
    for config in configs:
        try:
            started[config.name] = start(config)
        except HarnessError as exc:
            errors[config.name] = exc
    return started, errors


def register(d: Driver) -> Driver:
    """Make a driver known by its name; a second driver of the same name is a mistake."""
    known = _REGISTRY.get(d.name)
    if known is not None and type(known) is not type(d):
        raise HarnessError(f"two gateway drivers are called {d.name!r}")
    _REGISTRY[d.name] = d
    return d


def load(modules: tuple[str, ...] = ()) -> None:
    """Import every driver module of this package, and the named ones from elsewhere."""
    package = Path(__file__).parent
    for info in pkgutil.iter_modules([str(package)]):
        if info.name != "base":
            importlib.import_module(f"harness.gateway.drivers.{info.name}")
    for module in modules:
        importlib.import_module(module)


def driver(name: str) -> Driver:
    if not _REGISTRY:
        load()
    try:
        return _REGISTRY[name]
    except KeyError:
        raise HarnessError(f"no gateway driver {name!r}; known: {', '.join(names())}") from None


def names() -> list[str]:
    if not _REGISTRY:
        load()
    return sorted(_REGISTRY)


def parse_impl(text: str, url: str | None, key: str | None) -> Impl:
    """``--gateway-impl NAME[:fault,...]``, or black-box mode when ``--gateway-url`` is given."""
    if url:
        if not is_loopback_host(urlsplit(url).hostname or ""):
            raise ValueError(
                f"--gateway-url {url}: the suite only talks to loopback. Forward the gateway's "
                "port first (e.g. `ssh -L 4000:gateway:4000 host`) and use http://127.0.0.1:4000"
            )
        return Impl("black-box", url=url.rstrip("/"), key=key)
    kind, _, faults = text.partition(":")
    known = [n for n in names() if n != "black-box"]
    if kind not in known:
        raise ValueError(
            f"--gateway-impl must be one of {', '.join(known)} (reference takes "
            f"reference:fault,...), not {text!r}"
        )
    chosen = frozenset(f for f in faults.split(",") if f)
    if chosen and not driver(kind).takes_faults:
        raise ValueError(f"--gateway-impl {text}: the {kind} gateway takes no faults")
    return Impl(kind, chosen)
