"""The proxy process's only way out: an HTTPS proxy on loopback that lets nothing leave it.

LiteLLM's Vertex pass-through builds its upstream URL from a hard-coded host
(``https://{location}-aiplatform.googleapis.com``); no setting moves it. To reach a
fake Vertex anyway, the LiteLLM process is given ``HTTPS_PROXY`` pointing here and
``SSL_CERT_FILE`` naming a throwaway CA made for this session (trustme). A CONNECT to a
host in ``intercept`` is answered, its TLS terminated with a certificate from that CA,
and the plain bytes relayed to the fake. Every other CONNECT, and every plain-HTTP
proxy request, is refused and remembered in ``escapes``: the plugin fails the test
that caused one, so the network guard's promise holds for the subprocess too.
"""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import ssl
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import trustme

from harness.errors import HarnessError

LIMIT = 64 * 1024


@dataclass
class Tunnel:
    """One CONNECT the proxy answered: where the client asked to go, and where it went."""

    host: str
    port: int
    upstream: str


@dataclass
class EgressProxy:
    """``intercept`` maps a host pattern (fnmatch, ``*-aiplatform.googleapis.com``) to a loopback
    URL."""

    intercept: dict[str, str] = field(default_factory=dict)
    on_escape: Callable[[str], None] | None = None
    tunnels: list[Tunnel] = field(default_factory=list)
    escapes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.ca = trustme.CA()
        self._dir = Path(tempfile.mkdtemp(prefix="cc-egress-"))
        self.ca_file = self._dir / "ca.pem"
        self.ca.cert_pem.write_to_path(str(self.ca_file))
        self._contexts: dict[str, ssl.SSLContext] = {}
        self._loop = asyncio.new_event_loop()
        self._server: asyncio.Server | None = None
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="egress-proxy", daemon=True
        )
        self.port = 0

    def start(self) -> EgressProxy:
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self._serve, "127.0.0.1", 0), self._loop
        )
        self._server = future.result(timeout=10)
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self

    def stop(self) -> None:
        if self._thread.is_alive():
            asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(timeout=10)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=5)

    async def _shutdown(self) -> None:
        if self._server is not None:
            self._server.close()
        tunnels = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tunnels:
            task.cancel()
        await asyncio.gather(*tunnels, return_exceptions=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        """What the LiteLLM process needs to go through this proxy and trust its certificates."""
        return {
            "HTTPS_PROXY": self.url,
            "HTTP_PROXY": self.url,
            "https_proxy": self.url,
            "http_proxy": self.url,
            "NO_PROXY": "127.0.0.1,localhost",
            "no_proxy": "127.0.0.1,localhost",
            "SSL_CERT_FILE": str(self.ca_file),
        }

    def reset(self) -> None:
        self.tunnels.clear()
        self.escapes.clear()

    def _target(self, host: str) -> str | None:
        return next(
            (url for pattern, url in self.intercept.items() if fnmatch.fnmatch(host, pattern)), None
        )

    def _context(self, host: str) -> ssl.SSLContext:
        if host not in self._contexts:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            self.ca.issue_cert(host).configure_cert(context)
            self._contexts[host] = context
        return self._contexts[host]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            method, target, _ = head.split(b"\r\n", 1)[0].decode("latin-1").split(" ", 2)
            host, _, port = target.rpartition(":") if method == "CONNECT" else (target, "", "0")
            upstream = self._target(host) if method == "CONNECT" else None
            if upstream is None:
                self.escapes.append(f"{method} {target}")
                if self.on_escape is not None:
                    self.on_escape(f"{target} (from the proxy process, through the egress proxy)")
                writer.write(b"HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n")
                await writer.drain()
                return
            self.tunnels.append(Tunnel(host, int(port or 443), upstream))
            writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
            await writer.drain()
            await writer.start_tls(self._context(host))
            await self._relay(reader, writer, upstream)
        except (
            OSError,
            ValueError,
            asyncio.IncompleteReadError,
            asyncio.LimitOverrunError,
            ssl.SSLError,
        ):
            pass  # a client that hangs up mid-handshake is its own business
        finally:
            with contextlib.suppress(OSError, ssl.SSLError):
                writer.close()

    async def _relay(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, upstream: str
    ) -> None:
        host, _, port = upstream.removeprefix("http://").rstrip("/").rpartition(":")
        up_reader, up_writer = await asyncio.open_connection(host, int(port))

        async def pump(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError, ssl.SSLError):
                while chunk := await source.read(LIMIT):
                    sink.write(chunk)
                    await sink.drain()
            with contextlib.suppress(OSError, ssl.SSLError, RuntimeError):
                sink.close()

        await asyncio.gather(pump(reader, up_writer), pump(up_reader, writer))


def start(intercept: dict[str, str], on_escape: Callable[[str], None] | None = None) -> EgressProxy:
    try:
        return EgressProxy(dict(intercept), on_escape=on_escape).start()
    except OSError as exc:
        raise HarnessError(f"could not start the loopback egress proxy: {exc}") from exc
