"""A gateway running as a local process on a loopback port: what the targets of the subprocess
drivers (LiteLLM's proxy, Portkey's gateway) share."""

from __future__ import annotations

from typing import Any

from harness.gateway.configs import GatewayConfig
from harness.gateway.logfile import LogFileMixin


class LocalProcess(LogFileMixin):
    """For a target with ``gateway``, ``port``, ``process`` and ``log_path``: its URL, key, exit
    code and liveness."""

    gateway: GatewayConfig
    port: int
    process: Any  # a Popen, or the fork server's stand-in for one

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def master_key(self) -> str | None:
        return self.gateway.master_key

    @property
    def returncode(self) -> int | None:
        code: int | None = self.process.returncode
        return code

    def alive(self) -> bool:
        return bool(self.process.poll() is None)
