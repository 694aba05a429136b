"""The reference gateway's server: one config at a time, the state its faults keep (benched
deployments, requests seen), its log."""

from __future__ import annotations

import collections
import threading
import time
from http.server import ThreadingHTTPServer
from pathlib import Path

from harness.gateway.reference.config import ReferenceConfig
from harness.gateway.reference.handler import ReferenceHandler


class ReferenceServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, cfg: ReferenceConfig, log_path: Path, port: int = 0) -> None:
        self.cfg = cfg
        self.log_path = log_path
        self._log_lock = threading.Lock()
        self.benched_until = 0.0  # bench-all-after-error: when every model serves again
        self.benched: dict[int, float] = {}  # a deployment (by id) -> when it serves again
        self.carried: dict[str, object] = {}  # sticky-fields: what the last request set
        self._seen: collections.Counter[str] = collections.Counter()
        super().__init__(("127.0.0.1", port), ReferenceHandler)

    def restart(self, cfg: ReferenceConfig) -> None:
        """A new config, and none of the old one's state: no benched deployment, no request seen."""
        with self._log_lock:
            self.cfg, self.benched_until, self.benched = cfg, 0.0, {}
            self.carried = {}
            self._seen.clear()

    def first_time(self, request: str) -> bool:
        """True the first, third ... time this request comes: a second run of a check gets the other
        answer."""
        with self._log_lock:
            self._seen[request] += 1
            return self._seen[request] % 2 == 1

    def log(self, line: str) -> None:
        with self._log_lock, self.log_path.open("a") as f:
            f.write(f"{time.strftime('%H:%M:%S')} {line}\n")
