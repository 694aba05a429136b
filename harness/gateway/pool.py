"""The gateways of a run: one per named config, started together on first need, and the pools'
ledger."""

from __future__ import annotations

import collections
import itertools
import time
from pathlib import Path
from typing import Any

from harness.errors import HarnessError
from harness.gateway.configs import (
    POOL_FALLBACK,
    ConfigBuilder,
    GatewayConfig,
    Upstreams,
    apply_settings,
    assert_loopback_only,
    build,
    config_digest,
)
from harness.gateway.configs.model import stable_config_text
from harness.gateway.configs.pools import pool_model
from harness.gateway.drivers import Impl, Launch
from harness.gateway.targets import Target

# LiteLLM's default cooldown is 5 s; a pool entry is not handed out again sooner than this.
POOL_REUSE_S = 6.0


class GatewayUnavailable(HarnessError):
    """A gateway the check needs could not start, or has died; the message says why, with its log's
    tail."""


class DeploymentLedger:
    """Hands out pool deployments so that no two checks share one while LiteLLM's cooldown lasts."""

    def __init__(self) -> None:
        self._next: dict[str, itertools.count[int]] = collections.defaultdict(itertools.count)
        self._used: dict[str, float] = {}

    def take(self, proxy: Target, route: str = "anthropic") -> str:
        """A deployment of ``proxy``'s gateway for ``route`` that no other check uses while the
        cooldown lasts."""
        name = pool_model(route, next(self._next[route]))
        if not proxy.gateway.serves(name):
            if route not in POOL_FALLBACK:
                raise GatewayUnavailable(
                    f"the {proxy.gateway.name!r} gateway has no {route!r} pool"
                )
            return str(POOL_FALLBACK[route])
        wait = self._used.get(name, -POOL_REUSE_S) + POOL_REUSE_S - time.monotonic()
        if wait > 0:
            time.sleep(
                wait
            )  # the pool wrapped around inside a cooldown: reusing now would inherit it
        self._used[name] = time.monotonic()
        return name


class ProxyPool:
    """One gateway per named config, started together on first need and stopped at session end."""

    def __init__(
        self,
        impl: Impl,
        upstreams: Upstreams,
        python: str,
        root: Path,
        wanted: set[str],
        timeout: float,
        port: int | None,
        facts: dict[str, Any] | None = None,
        overrides: dict[str, ConfigBuilder] | None = None,
        settings: str = "isolated",
        launch: str = "fork",
    ) -> None:
        self.impl, self.upstreams, self.python, self.root = impl, upstreams, python, root
        self.wanted, self.timeout, self.port = set(wanted), timeout, port
        self.running: dict[str, Target] = {}
        self.failed: dict[str, str] = {}
        # Shared with the report: what was actually run.
        self.facts = facts if facts is not None else {}
        # Builders that replace registered configs, e.g. "default" by the user's own config.
        self.overrides = overrides or {}
        # --litellm-settings: LiteLLM's defaults, or the isolation overlay
        # (harness.gateway.configs.ISOLATION).
        self.settings = settings
        self.facts["settings"] = {"profile": settings, "applied": {}}
        self.launch = launch
        # Which pool deployment each route hands out next, and when each was last handed out.
        self.ledger = DeploymentLedger()
        # The kill matrix's kill matrix: the reference gateway's faults for the check now running.
        self.extra_faults: frozenset[str] = frozenset()

    def try_get(self, name: str) -> Target | str:
        """The running gateway for ``name``, or the paragraph explaining why it could not start."""
        if name not in self.running and name not in self.failed:
            self._start({name} | (self.wanted - set(self.running) - set(self.failed)))
        return self.failed.get(name) or self.running[name]

    def get(self, name: str) -> Target:
        """The running gateway for ``name``; :class:`GatewayUnavailable` if it could not start or
        has died."""
        got = self.try_get(name)
        if isinstance(got, str):
            raise GatewayUnavailable(got)
        if not got.alive():
            raise GatewayUnavailable(
                f"the gateway for {name!r} has died (exit code {got.returncode}). "
                f"Last lines of its log:\n{got.log_tail()}"
            )
        return got

    def _launch(
        self, configs: list[GatewayConfig]
    ) -> tuple[dict[str, Target], dict[str, HarnessError]]:
        how = Launch(
            self.impl,
            self.root,
            self.timeout,
            self.python,
            self.port,
            self.launch,
            self.extra_faults,
        )
        return self.impl.driver.start(configs, how)

    def _start(self, names: set[str]) -> None:
        configs = []
        for name in sorted(names):
            try:
                override = self.overrides.get(name)
                if override is None:
                    configs.append(build(name, self.upstreams))
                else:
                    configs.append(override(self.upstreams))
                    assert_loopback_only(configs[-1])
            except HarnessError as exc:
                self.failed[name] = str(exc)
        for config in configs:
            self.facts["settings"]["applied"].update(apply_settings(config, self.settings))
        running, failed = self._launch(configs)
        self.running.update(running)
        # Counted in the report, so a harness that needed second tries says so (issue 38).
        retried = [n for n, p in running.items() if getattr(p, "attempts", 1) > 1]
        self.facts.setdefault("proxy_starts_retried", []).extend(sorted(retried))
        if self.running:
            self.facts["litellm_version"] = next(iter(self.running.values())).version
            launches = {str(getattr(p, "launch", "")) for p in self.running.values()} - {""}
            if launches:
                self.facts["proxy_launch"] = "/".join(sorted(launches))
            texts = self.facts.setdefault("config_texts", {})
            texts.update({name: stable_config_text(p.gateway) for name, p in self.running.items()})
            self.facts["config_hash"] = config_digest(list(texts.values()))
        # Remembered, so every later test on a broken config fails at once with the same paragraph.
        self.failed.update({name: str(exc) for name, exc in failed.items()})

    def use_faults(self, faults: frozenset[str]) -> None:
        """The reference gateways run on with these faults besides their own (each one's state
        starts afresh)."""
        if faults and not self.impl.driver.takes_faults:
            raise HarnessError(
                "a kill matrix needs --gateway-impl reference: "
                "only the reference gateway has faults"
            )
        if faults != self.extra_faults:
            self.failed.clear()  # a gateway that could not start may start now (quickstart-open)
        self.extra_faults = faults
        for name, target in list(self.running.items()):
            if self.impl.driver.takes_faults:
                try:
                    self.impl.driver.set_faults(target, self.impl.faults | faults)
                except (
                    HarnessError
                ) as exc:  # a config only a fault let start (quickstart-open) is refused again
                    target.stop()
                    del self.running[name]
                    self.failed[name] = str(exc)

    def stop_all(self) -> None:
        for proxy in self.running.values():
            proxy.stop()
        self.running.clear()
