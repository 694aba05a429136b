"""A gateway running as a local process on a loopback port: what the targets of the subprocess
drivers (LiteLLM's proxy, Portkey's gateway) share."""

from __future__ import annotations

import time
from typing import Any

import httpx

from harness.errors import HarnessError
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

    def stop(self) -> None:
        raise NotImplementedError

    def wait_until_answering(self, path: str, started: float, timeout: float, what: str) -> None:
        """Poll ``path`` until the process answers anything; otherwise stop it and raise a
        HarnessError with its log tail (a Node gateway that will not start)."""
        while time.monotonic() - started < timeout and self.alive():
            try:
                httpx.get(self.url + path, timeout=1.0)
            except httpx.HTTPError:
                time.sleep(0.1)
                continue
            return
        self.stop()
        raise HarnessError(
            f"{what} did not answer on {self.url} within {timeout:.0f} s (exit code "
            f"{self.returncode}). Last lines of its log:\n{self.log_tail()}"
        )
