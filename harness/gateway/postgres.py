"""A throwaway PostgreSQL cluster on loopback, for a gateway whose store is PostgreSQL
(Anthropic's ``claude gateway``; LiteLLM's virtual keys could use it too).

The server is Debian's ``postgresql`` package (``dev.py`` installs it when run as root, as it
installs Chromium). The cluster lives in a folder of its own under the temp dir (the
``postgres`` user must reach it, and a run's folders are private to root), listens on 127.0.0.1
and a free port, trusts loopback (it holds nothing but the run's own rows), and is deleted when
it stops.
initdb refuses to run as root, so as root the server runs as Debian's ``postgres`` user.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from harness.errors import HarnessError
from harness.gateway.process import free_port

INSTALL_HINT = (
    "Install PostgreSQL's server (Debian: `apt-get install postgresql`; `python3 dev.py` does "
    "it when run as root), or put its bin folder (initdb, pg_ctl) on PATH."
)


def bindir() -> Path | None:
    """Where initdb and pg_ctl are: PATH first, then Debian's versioned folders, newest first."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(found).resolve().parent
    for folder in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if Path(folder, "initdb").exists():
            return Path(folder)
    return None


def _as_server_user(argv: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return argv
    runuser = shutil.which("runuser")
    if runuser is None:
        raise HarnessError("PostgreSQL cannot run as root here, and runuser is missing")
    return [runuser, "-u", "postgres", "--", *argv]


@dataclass
class Cluster:
    """``start()`` it, ``database(name)`` for a URL, ``stop()`` (which deletes it)."""

    folder: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="cc-postgres-")))
    port: int = 0
    bin: Path | None = None  # initdb's folder, found at start

    @property
    def data(self) -> Path:
        return self.folder / "data"

    @property
    def log(self) -> Path:
        return self.folder / "postgres.log"

    def _run(self, argv: list[str], what: str) -> None:
        done = subprocess.run(
            _as_server_user(argv), capture_output=True, text=True, timeout=120, check=False
        )
        if done.returncode:
            tail = "\n".join((done.stdout + done.stderr).splitlines()[-12:])
            log = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            raise HarnessError(
                f"PostgreSQL could not {what} (exit code {done.returncode}) in {self.folder}:\n"
                f"{tail}\n{log}".rstrip()
            )

    def start(self) -> Cluster:
        folder = self.bin = bindir()
        if folder is None:
            raise HarnessError(f"No PostgreSQL server on this machine. {INSTALL_HINT}")
        self.folder.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres")
        self.port = free_port()
        self._run(
            [
                str(folder / "initdb"),
                "-D",
                str(self.data),
                "-A",
                "trust",
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--no-sync",
            ],
            "create its cluster",
        )
        options = f"-h 127.0.0.1 -p {self.port} -k {self.folder} -c fsync=off"
        self._run(
            [
                str(folder / "pg_ctl"),
                "-D",
                str(self.data),
                "-o",
                options,
                "-l",
                str(self.log),
                "-w",
                "-t",
                "60",
                "start",
            ],
            "start",
        )
        return self

    def database(self, name: str) -> str:
        """Create a database and return its URL (``localhost``: the gateway refuses IP literals)."""
        folder = self.bin
        assert folder is not None, "start() the cluster first"
        self._run(
            [
                str(folder / "createdb"),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                "postgres",
                name,
            ],
            f"create the database {name!r}",
        )
        return f"postgres://postgres@localhost:{self.port}/{name}"

    def stop(self) -> None:
        folder = self.bin
        if folder is not None and self.data.exists():
            subprocess.run(
                _as_server_user(
                    [str(folder / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop"]
                ),
                capture_output=True,
                timeout=60,
                check=False,
            )
        shutil.rmtree(self.folder, ignore_errors=True)
