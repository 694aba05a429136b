"""A gateway running as a local process on a loopback port: what the targets of the subprocess
drivers (LiteLLM's proxy, Portkey's gateway, claude-code-router, Anthropic's gateway) share."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path
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
    startup_seconds: float

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

    def wait_until_answering(
        self, path: str, started: float, timeout: float, what: str, status: int | None = None
    ) -> None:
        """Poll ``path`` until the process answers (with ``status``, when given) and record how
        long it took; otherwise stop it and raise a HarnessError with its log tail."""
        while time.monotonic() - started < timeout and self.alive():
            try:
                answered = httpx.get(self.url + path, timeout=1.0).status_code
            except httpx.HTTPError:
                answered = None
            if answered is not None and status in (None, answered):
                self.startup_seconds = time.monotonic() - started
                return
            time.sleep(0.1)
        self.stop()
        wanted = f"{path} with {status}" if status else path
        raise HarnessError(
            f"{what} did not answer {wanted} on {self.url} within {timeout:.0f} s (exit code "
            f"{self.returncode}). Last lines of its log:\n{self.log_tail()}"
        )


def spawn(
    argv: list[str], log_path: Path, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """A gateway process in a session of its own (so its whole tree can be stopped), its output
    into ``log_path``."""
    with log_path.open("wb") as log:
        return subprocess.Popen(
            argv,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
