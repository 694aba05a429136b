"""A minimal reference gateway: correct by construction, and deliberately broken on request.

It is the suite's positive control. It reads the same :class:`GatewayConfig` as
LiteLLM (``model_list`` entries for ``anthropic/…``, ``general_settings.master_key``,
``router_settings.model_group_alias``, the config's virtual keys) and does the
least a Claude Code gateway must: authenticate, route by model name, forward
Anthropic Messages with every ``anthropic-*``/``x-claude-code-*`` header, relay
streams frame by frame, and answer its own errors in Anthropic's envelope.
It does not translate to OpenAI; checks that need that are not applicable to it.
Under faults it does what a gateway should: a deployment's ``timeout`` bounds each wait
for the provider, a client that leaves is not waited for (the provider call is hung up),
a provider that breaks mid-answer gets the client an error, and it never retries.

Each *fault* turns on one deliberate bug, so the self-tests can prove that the
suite flags it (the negative controls).
"""

from __future__ import annotations

import threading
from pathlib import Path

from harness import yamlio
from harness.errors import ProxyStartError
from harness.gateway.configs import GatewayConfig
from harness.gateway.logfile import LogFileMixin
from harness.gateway.reference.config import ReferenceConfig
from harness.gateway.reference.faults import SWITCHABLE
from harness.gateway.reference.server import ReferenceServer


class ReferenceGateway(LogFileMixin):
    """A running reference gateway; quacks like :class:`harness.gateway.process.LiteLLMProxy`."""

    returncode = None

    def __init__(
        self, gateway: GatewayConfig, workdir: Path, faults: frozenset[str] = frozenset()
    ) -> None:
        unknown = faults - SWITCHABLE
        if unknown:
            raise ProxyStartError(
                f"unknown reference gateway fault(s) {sorted(unknown)}; known: {sorted(SWITCHABLE)}"
            )
        self.gateway = gateway
        self.version = self.label(faults)
        workdir.mkdir(parents=True, exist_ok=True)
        self.config_path = workdir / "config.yaml"
        self.config_path.write_text(yamlio.dump(gateway.config, sort_keys=False))
        self.log_path = workdir / "gateway.log"
        self.log_path.touch()
        self.faults = faults
        self._server = ReferenceServer(ReferenceConfig.from_gateway(gateway, faults), self.log_path)
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="reference-gateway", daemon=True
        )
        self._thread.start()
        self.startup_seconds = 0.0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def master_key(self) -> str | None:
        return self.gateway.master_key

    @staticmethod
    def label(faults: frozenset[str]) -> str:
        return "reference" + (f"+{','.join(sorted(faults))}" if faults else "")

    def alive(self) -> bool:
        return self._thread.is_alive()

    def set_faults(self, faults: frozenset[str]) -> None:
        """Run on with other faults, as if restarted with them: the kill matrix switches them
        between checks."""
        if faults == self.faults:
            return
        unknown = faults - SWITCHABLE
        if unknown:
            raise ProxyStartError(
                f"unknown reference gateway fault(s) {sorted(unknown)}; known: {sorted(SWITCHABLE)}"
            )
        self.faults = faults
        self._server.restart(ReferenceConfig.from_gateway(self.gateway, faults))
        self._server.log(f"faults now: {','.join(sorted(faults)) or 'none'}")

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
