"""The real LiteLLM proxy as a subprocess: start, wait until ready, attach logs, stop.

Every failure to start becomes a :class:`ProxyStartError` of one paragraph with
the proxy's log tail, and leaves no process behind: the proxy runs in its own
process group, which is killed on any error and at teardown.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import httpx
import psutil

from harness import yamlio
from harness.errors import HarnessError, ProxyStartError
from harness.gateway import forkserver
from harness.gateway.configs import GatewayConfig
from harness.gateway.local import LocalProcess
from harness.protocol import loopback

STARTUP_TIMEOUT = 120.0
READY_PATH = "/health/liveliness"
# Only these survive from the caller's environment: nothing that names a real
# provider credential, a proxy, or a cloud profile can leak into the gateway.
PASSTHROUGH_ENV = ("PATH", "LANG", "LC_ALL", "TZ", "TMPDIR", "SYSTEMROOT")
FIXED_ENV = {
    "LITELLM_LOCAL_MODEL_COST_MAP": "True",  # no price-list fetch at import
    # By default LiteLLM fetches its beta-header filter table from GitHub's main branch at the first
    # request (found by the egress proxy), so a verdict would depend on that file today; this pins
    # the table the installed version ships.
    "LITELLM_LOCAL_ANTHROPIC_BETA_HEADERS": "True",
    "LITELLM_DONT_SHOW_FEEDBACK_BOX": "true",
    "LITELLM_LOG": "INFO",
    "PYTHONUNBUFFERED": "1",  # so the log tail on failure is complete
    "NO_PROXY": "*",
}


class ProxyProcess(Protocol):
    """What the launcher needs of a proxy's process: a ``Popen``, or one the fork server forked."""

    pid: int
    returncode: int | None

    def poll(self) -> int | None: ...

    def wait(self, timeout: float | None = None) -> int: ...


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_is_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@functools.lru_cache(maxsize=16)  # a failed probe raises, and is asked again next time
def litellm_version(python: str) -> str:
    """The version of ``litellm`` importable by ``python``; a HarnessError if there is none.

    Asked once per interpreter and process: the probe is a Python start-up, and every proxy spawned
    used to pay it (a tenth of a suite run's CPU).
    """
    if shutil.which(python) is None and not Path(python).is_file():
        raise HarnessError(
            f"The Python selected to run LiteLLM ({python}) does not exist. Pass --litellm-python "
            "with the interpreter of an environment where litellm[proxy] is installed."
        )
    probe = (
        "import importlib.metadata as m, importlib.util as u, sys\n"
        "sys.exit(3) if u.find_spec('litellm') is None else print(m.version('litellm'))"
    )
    done = subprocess.run([python, "-c", probe], capture_output=True, text=True, timeout=60)
    if done.returncode == 3:
        raise HarnessError(
            f"litellm is not installed in the Python environment of {python}. Install it there "
            f"(`{python} -m pip install 'litellm[proxy]==1.108.7'`) or pass --litellm-python with "
            "the interpreter of an environment that has it."
        )
    if done.returncode != 0:
        raise HarnessError(
            f"Could not query litellm's version with {python}: {done.stderr.strip()[-800:]}"
        )
    return done.stdout.strip()


@dataclass(eq=False)  # identity semantics: a proxy is a process, not a value
class LiteLLMProxy(LocalProcess):
    """A running proxy. ``url`` is where clients talk to it."""

    gateway: GatewayConfig
    port: int
    process: ProxyProcess
    log_path: Path
    config_path: Path
    version: str
    startup_seconds: float = 0.0
    launch: str = "exec"  # "fork" when forked from the fork server's preloaded LiteLLM
    attempts: int = 1  # 2 when its first start failed and start_many started it again

    def stop(self) -> None:
        kill_process_tree(self.process)
        _LIVE.discard(self)


# Every proxy not yet stopped; the atexit hook below is the last line of defence
# against orphans when the test process ends without running its teardown.
_LIVE: set[LiteLLMProxy] = set()


@atexit.register
def _stop_leftovers() -> None:
    for proxy in list(_LIVE):
        proxy.stop()


def kill_process_tree(process: ProxyProcess, grace: float = 5.0) -> None:
    """Stop the proxy's whole process group, then anything that escaped it."""
    try:
        escaped = psutil.Process(process.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        escaped = []
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, grace)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:  # a forked proxy stopped before it made its own group
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(process.pid, sig)
        except PermissionError:
            pass
        try:
            process.wait(timeout=wait)
            break
        except subprocess.TimeoutExpired:
            continue
    for child in escaped:
        with contextlib.suppress(psutil.NoSuchProcess):
            child.kill()


def proxy_env(gateway: GatewayConfig, home: Path) -> dict[str, str]:
    env = {k: os.environ[k] for k in PASSTHROUGH_ENV if k in os.environ}
    env.update(FIXED_ENV)
    env["HOME"] = str(home)
    env.update(gateway.env)
    return env


def zygote_env() -> dict[str, str]:
    """The fork server's environment: what every proxy's has in common (each adds its gateway's
    own)."""
    env = {k: os.environ[k] for k in PASSTHROUGH_ENV if k in os.environ}
    env.update(FIXED_ENV)
    return env


def _launch(
    gateway: GatewayConfig, python: str, workdir: Path, cmd: list[str], launch: str
) -> tuple[ProxyProcess, str]:
    log_path = workdir / "proxy.log"
    env = proxy_env(gateway, workdir)
    server = forkserver.acquire(python, zygote_env()) if launch == "fork" else None
    if server is not None:
        log_path.write_bytes(b"")
        return server.spawn(cmd[1:], env, workdir, log_path), "fork"
    with log_path.open("wb") as log:
        try:
            return subprocess.Popen(
                cmd,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                cwd=workdir,
                start_new_session=True,
            ), "exec"
        except OSError as exc:
            raise ProxyStartError(
                f"Cannot start LiteLLM for gateway config {gateway.name!r} with {python}: {exc}"
            ) from None


def spawn(
    gateway: GatewayConfig,
    python: str,
    workdir: Path,
    port: int | None = None,
    launch: str = "fork",
) -> LiteLLMProxy:
    """Write the config and launch the proxy; returns at once. Pair with :func:`wait_ready`."""
    version = litellm_version(python)
    if port is None:
        port = free_port()
    elif not port_is_free(port):
        raise ProxyStartError(
            f"Cannot start LiteLLM for gateway config {gateway.name!r}: port {port} on 127.0.0.1 "
            "is already in use by another process. Free the port or let the harness choose one "
            "(omit --proxy-port)."
        )
    workdir.mkdir(parents=True, exist_ok=True)
    config_path = workdir / "config.yaml"
    config_path.write_text(yamlio.dump(gateway.config, sort_keys=False))
    for name, text in gateway.files.items():
        (workdir / name).write_text(text)
    cmd = [
        python,
        "-m",
        "litellm.proxy.proxy_cli",
        "--config",
        str(config_path),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    process, how = _launch(gateway, python, workdir, cmd, launch)
    proxy = LiteLLMProxy(
        gateway, port, process, workdir / "proxy.log", config_path, version, launch=how
    )
    _LIVE.add(proxy)
    return proxy


def _explain(proxy: LiteLLMProxy, what: str) -> ProxyStartError:
    tail = proxy.log_tail(25)
    hint = ""
    # The whole log, not the tail: a bind error can sit above a long traceback of the shutdown it
    # caused.
    if "address already in use" in proxy.log_tail(10_000).lower():
        hint = f" Port {proxy.port} is already in use by another process."
    elif "Application startup failed" in tail:
        hint = " LiteLLM rejected its config at startup; the exception above names the bad entry."
    elif "No module named" in tail:
        hint = (
            " A module LiteLLM needs is missing from its environment "
            "(is the proxy extra installed?)."
        )
    return ProxyStartError(
        f"LiteLLM {proxy.version} for gateway config {proxy.gateway.name!r} {what}.{hint} "
        f"Config: {proxy.config_path}. Log: {proxy.log_path}. Last lines of the log:\n{tail}"
    )


def wait_ready(proxy: LiteLLMProxy, timeout: float = STARTUP_TIMEOUT) -> LiteLLMProxy:
    """Poll until the proxy answers its liveness probe; kill it and explain on any failure."""
    started = time.monotonic()
    try:
        with loopback.client(timeout=2.0) as client:
            while time.monotonic() - started < timeout:
                if not proxy.alive():
                    raise _explain(
                        proxy, f"exited during startup with code {proxy.process.returncode}"
                    )
                with contextlib.suppress(httpx.TransportError):
                    # Another worker's proxy can answer on a port this one was given and has not
                    # bound yet (free_port() closes its probe): only this proxy's own listening
                    # socket makes it ready.
                    if client.get(proxy.url + READY_PATH).status_code == 200 and _listens(proxy):
                        proxy.startup_seconds = time.monotonic() - started
                        return proxy
                time.sleep(0.1)
        raise _explain(proxy, f"did not become ready within {timeout:.0f} s")
    except BaseException:
        proxy.stop()
        raise


def _listens(proxy: LiteLLMProxy) -> bool:
    """Whether the proxy's own process (or a child of it) listens on its port."""
    try:
        root = psutil.Process(proxy.process.pid)
        for process in (root, *root.children(recursive=True)):
            with contextlib.suppress(psutil.Error):
                if any(
                    c.status == psutil.CONN_LISTEN and c.laddr and c.laddr.port == proxy.port
                    for c in process.net_connections(kind="tcp")
                ):
                    return True
    except psutil.Error:
        return False
    return False


def _failed_to_start(error: BaseException | None) -> bool:
    """A start worth one more try: any ProxyStartError (a lost port, a start that died on its way
    up).

    A config LiteLLM rejects fails the second time too, and is reported then; a start that died for
    a passing reason (another worker's proxy took the port, an upstream connect cancelled at
    startup, the machine's load) does not blame the gateway for the harness's accident (issue 38).
    """
    return isinstance(error, ProxyStartError)


def start_many(
    gateways: list[GatewayConfig],
    python: str,
    root: Path,
    timeout: float = STARTUP_TIMEOUT,
    default_port: int | None = None,
    launch: str = "fork",
) -> tuple[dict[str, LiteLLMProxy], dict[str, HarnessError]]:
    """Start several proxies concurrently: the running ones, and why each other one failed.

    Spawning is quick and done in this thread; only the wait for readiness runs in
    parallel. One broken config does not stop the others. ``default_port`` pins the
    gateway named "default"; others take free ports.
    """
    spawned: dict[str, LiteLLMProxy] = {}
    failed: dict[str, HarnessError] = {}
    try:
        for g in gateways:
            try:
                port = default_port if g.name == "default" else None
                spawned[g.name] = spawn(g, python, root / g.name, port, launch)
            except HarnessError as exc:
                failed[g.name] = exc
        with ThreadPoolExecutor(max_workers=max(1, len(spawned))) as pool:
            futures = {name: pool.submit(wait_ready, p, timeout) for name, p in spawned.items()}
            # A start that failed (a chosen port another process took first, a start that died):
            # once more, on a port of its own; the first attempt's log is kept beside the second's.
            for g in gateways:
                if g.name in futures and _failed_to_start(futures[g.name].exception()):
                    _keep_first_log(spawned[g.name])
                    port = default_port if g.name == "default" else None
                    spawned[g.name] = spawn(g, python, root / g.name, port, launch)
                    spawned[g.name].attempts = 2
                    futures[g.name] = pool.submit(wait_ready, spawned[g.name], timeout)
        for name, future in futures.items():
            error = future.exception()
            if isinstance(error, HarnessError):
                failed[name] = error
            elif error is not None:
                raise error
    except BaseException:
        for p in spawned.values():
            p.stop()
        raise
    return {n: p for n, p in spawned.items() if n not in failed}, failed


def _keep_first_log(proxy: LiteLLMProxy) -> None:
    with contextlib.suppress(OSError):
        proxy.log_path.replace(proxy.log_path.with_name("proxy.first-attempt.log"))


def resolve_python(chosen: str | None) -> str:
    """The interpreter named by --litellm-python (an interpreter or a virtualenv directory)."""
    if not chosen:
        return sys.executable
    # Absolute, since the proxy starts in its own directory; not resolved, since a venv's python
    # is a symlink and only the link's location makes it that venv's interpreter.
    path = Path(chosen).absolute()
    return str(path / "bin" / "python") if path.is_dir() else str(path)
