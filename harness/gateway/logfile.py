"""Reading a gateway's log file: what the evidence and the startup errors show."""

from __future__ import annotations

from pathlib import Path


class LogFileMixin:
    """For anything with a ``log_path``: its size, its text since an offset, its last lines."""

    log_path: Path

    def log_size(self) -> int:
        return self.log_path.stat().st_size if self.log_path.exists() else 0

    def log_text(self, since: int = 0) -> str:
        with self.log_path.open("rb") as f:
            f.seek(since)
            return f.read().decode("utf-8", "replace")

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])
