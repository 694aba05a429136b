#!/usr/bin/env python3
"""Replay one failing conformance check against a real LiteLLM, on loopback, with nothing but this
folder.

    python3 repro.py                      # uses `python3` with litellm[proxy] installed
    python3 repro.py --python /path/to/venv/bin/python
    python3 repro.py --serve-provider     # only the recorded provider, to aim your own gateway at

It starts a stand-in provider on 127.0.0.1 that answers with the provider's recorded answers
(``repro.json``), starts ``litellm --config config.yaml`` against it, sends the recorded client
requests, and compares the wire facts with those seen when the check failed: each answer's status,
content type, error type or event sequence, and what the provider received (method, path, the
``anthropic-*`` and ``x-*`` headers, the body's fields). Exit 1: the failure reproduces. Exit 0: the
gateway now behaves differently (fixed, or failing in another way: re-run the check). Exit 2: the
repro could not run.

This file is the harness's own (``harness/tools/user/repro/replay.py``): it imports only the
standard library and ``wirefacts.py`` beside it (:mod:`harness.verdict.wirefacts`), so it runs
anywhere the gateway does.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
try:  # in the harness
    from harness.verdict.wirefacts import (
        PROVIDER_PORT,
        answer_facts,
        differences,
        facts,
        provider_facts,
    )
except (
    ImportError
):  # in a repro folder: the copy beside this file (`python -I` leaves the folder off sys.path)
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from wirefacts import PROVIDER_PORT, answer_facts, differences, facts, provider_facts  # type: ignore[import-not-found,no-redef]


# -- the stand-in provider -------------------------------------------------------------------------


class Provider(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, answers: list[dict[str, Any]]) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.answers = answers
        self.used: set[int] = set()
        self.received: list[dict[str, Any]] = []
        self.lock = threading.Lock()

    def pick(self, method: str, path: str) -> dict[str, Any] | None:
        """The next unused recorded answer for this method and path; the last one again when all are
        used."""
        with self.lock:
            same = [
                n for n, a in enumerate(self.answers) if (a["method"], a["path"]) == (method, path)
            ]
            fresh = [n for n in same if n not in self.used]
            if not same:
                return None
            chosen = fresh[0] if fresh else same[-1]
            self.used.add(chosen)
            return self.answers[chosen]

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a gateway hanging up mid-answer is its business; the facts show what it did


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Provider

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._answer()

    def do_POST(self) -> None:
        self._answer()

    def _answer(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length") or 0))
        path = self.path.split("?", 1)[0]
        headers = {k.lower(): v for k, v in self.headers.items()}
        self.server.received.append(provider_facts(self.command, path, headers, body))
        answer = self.server.pick(self.command, path)
        if answer is None:
            payload = json.dumps(
                {"error": f"repro provider: nothing recorded for {self.command} {path}"}
            ).encode()
            self._send(404, {"content-type": "application/json"}, [payload], [0.0], chunked=False)
            return
        chunks = [base64.b64decode(c) for c in answer["chunks"]]
        self._send(
            answer["status"],
            answer["headers"],
            chunks,
            answer.get("pauses") or [0.0] * len(chunks),
            chunked=answer["streamed"],
        )

    def _send(
        self,
        status: int,
        headers: dict[str, str],
        chunks: list[bytes],
        pauses: list[float],
        chunked: bool,
    ) -> None:
        self.send_response(status)
        for key, value in headers.items():
            if key.lower() not in ("content-length", "transfer-encoding", "connection"):
                self.send_header(key, value)
        if not chunked:
            body = b"".join(chunks)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()
        for pause, chunk in zip(pauses, chunks, strict=False):
            time.sleep(min(pause, 5.0))
            self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")


# -- the gateway -----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_gateway(
    python: str, workdir: Path, env: dict[str, str], port: int, gateway: str = ""
) -> subprocess.Popen[bytes]:
    """LiteLLM from the folder's config; or, for a run against the harness's reference gateway
    ("reference" or "reference+fault,..."), that gateway with the same faults (``python`` then needs
    the harness installed)."""
    log = (workdir / "proxy.log").open("wb")
    if gateway.startswith("reference"):
        cmd = [
            python,
            "-m",
            "harness.gateway.reference",
            "--config",
            "config.yaml",
            "--port",
            str(port),
            "--faults",
            gateway.partition("+")[2],
        ]
    else:
        cmd = [
            python,
            "-m",
            "litellm.proxy.proxy_cli",
            "--config",
            "config.yaml",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ]
    return subprocess.Popen(
        cmd, cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )


def wait_ready(url: str, process: subprocess.Popen[bytes], seconds: float = 180.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the gateway exited with {process.returncode} before it was ready")
        with (
            contextlib.suppress(OSError),
            urllib.request.urlopen(f"{url}/health/liveliness", timeout=2),
        ):
            return
        time.sleep(0.3)
    raise RuntimeError(f"the gateway was not ready within {seconds:.0f} s")


def settle(provider: Provider, quiet: float = 1.0, longest: float = 8.0) -> int:
    """Wait until the provider has heard nothing for ``quiet`` seconds; how many requests it has had
    by then."""
    deadline = time.monotonic() + longest
    seen = -1
    while seen != len(provider.received) and time.monotonic() < deadline:
        seen = len(provider.received)
        time.sleep(quiet)
    return len(provider.received)


def send(url: str, exchange: dict[str, Any]) -> dict[str, Any]:
    body = base64.b64decode(exchange["body"]) if exchange["body"] is not None else None
    request = urllib.request.Request(
        url + exchange["path"], data=body, method=exchange["method"], headers=exchange["headers"]
    )
    try:
        with urllib.request.urlopen(request, timeout=120) as got:
            return answer_facts(
                got.status, {k.lower(): v for k, v in got.headers.items()}, got.read()
            )
    except urllib.error.HTTPError as got:
        return answer_facts(got.code, {k.lower(): v for k, v in got.headers.items()}, got.read())
    except (
        OSError
    ):  # no answer at all (reset, timeout): recorded as status 0, like the harness does
        return answer_facts(0, {}, b"")


def replay(folder: Path, python: str) -> tuple[dict[str, Any], str]:
    """Run the recorded exchanges through a fresh gateway; the facts seen now, and the proxy log's
    tail."""
    data = json.loads((folder / "repro.json").read_text())
    provider = Provider(data["provider_answers"])
    threading.Thread(target=provider.serve_forever, daemon=True).start()
    port = str(provider.server_address[1])
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "config.yaml").write_text(
            (folder / "config.yaml").read_text().replace(PROVIDER_PORT, port)
        )
        for name in data.get("files", []):
            (work / name).write_text((folder / name).read_text())
        env = {
            **{k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "TMPDIR")},
            **{k: v.replace(PROVIDER_PORT, port) for k, v in data["env"].items()},
            "HOME": str(work),
        }
        gw_port = free_port()
        process = start_gateway(
            python, work, env, gw_port, data.get("versions", {}).get("litellm", "")
        )
        try:
            wait_ready(f"http://127.0.0.1:{gw_port}", process)
            # What the gateway asks at start-up (model lists, health) happened before the check, not
            # in it.
            start = settle(provider)
            answers = [send(f"http://127.0.0.1:{gw_port}", ex) for ex in data["exchanges"]]
            time.sleep(0.5)  # a retry or a late provider call lands in the journal too
        finally:
            os.killpg(process.pid, 15)
            process.wait(timeout=30)
            provider.shutdown()
        log = (work / "proxy.log").read_text(errors="replace")
    plain = re.sub(r"\x1b\[[0-9;]*m", "", log)
    return facts(answers, provider.received[start:]), "\n".join(plain.splitlines()[-15:])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--python",
        default=os.environ.get("LITELLM_PYTHON", "python3"),
        help="a Python with litellm[proxy] installed (default: $LITELLM_PYTHON or python3)",
    )
    parser.add_argument(
        "--serve-provider", action="store_true", help="only run the recorded provider"
    )
    args = parser.parse_args(argv)
    folder = HERE
    data = json.loads((folder / "repro.json").read_text())
    if args.serve_provider:
        provider = Provider(data["provider_answers"])
        print(
            f"recorded provider on http://127.0.0.1:{provider.server_address[1]} "
            f"(replace {PROVIDER_PORT} in config.yaml with its port); Ctrl-C stops it",
            flush=True,
        )
        with contextlib.suppress(KeyboardInterrupt):
            provider.serve_forever()
        return 0
    if not data["exchanges"]:
        print(
            "this check did not talk to the gateway through plain HTTP requests (it drove the "
            "Claude Code CLI or raw sockets), so there is nothing to replay; see README.md for "
            "what it observed"
        )
        return 2
    print(
        f"{data['check']}\nexpected vs observed when it failed:\n{data['expected_vs_observed']}\n",
        flush=True,
    )
    try:
        now, log_tail = replay(folder, args.python)
    except (OSError, RuntimeError, subprocess.SubprocessError) as exc:
        print(f"the repro could not run: {exc}", file=sys.stderr)
        return 2
    changed = differences(data["facts"], now)
    if changed:
        print(
            "BEHAVIOUR CHANGED: the gateway no longer answers as it did when the check failed:\n  "
            + "\n  ".join(changed)
            + "\nRe-run the check to see whether it now passes."
        )
        return 0
    print(
        "REPRODUCED: the gateway answers exactly as it did when the check failed.\n"
        + json.dumps(now, indent=1)
        + f"\n\nproxy log (last lines):\n{log_tail}"
    )
    return 1


if __name__ == "__main__":
    sys.exit(main())
