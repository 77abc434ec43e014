"""Prefect's temporary API server, started as the command begins rather than when the flow first
needs it, so that its start (~6 s on 2 cores with a used Prefect home) runs while giodq imports
its libraries and checks the command (~6 s): the two overlap instead of adding up.

It is the server Prefect itself starts when no API is configured (``SubprocessASGIServer``: uvicorn
with ``prefect.server.api.server:create_app``, the UI off), started the same way, only earlier, and
told to the flow through ``PREFECT_API_URL``. A configured server (``PREFECT_API_URL`` in the
environment or in the active Prefect profile) is used as it is, and nothing is started.
"""
from __future__ import annotations

import atexit
import contextlib
import os
import socket
import subprocess
import sys
import time
import tomllib
import urllib.error
import urllib.request
from pathlib import Path


def configured_api() -> str | None:
    """The API the user configured: PREFECT_API_URL in the environment, else in the active profile
    (read without importing Prefect, which costs seconds)."""
    if os.environ.get("PREFECT_API_URL"):
        return os.environ["PREFECT_API_URL"]
    home = Path(os.environ.get("PREFECT_HOME", "~/.prefect")).expanduser()
    path = Path(os.environ.get("PREFECT_PROFILES_PATH", home / "profiles.toml")).expanduser()
    try:
        profiles = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    active = os.environ.get("PREFECT_PROFILE") or profiles.get("active", "ephemeral")
    return (profiles.get("profiles", {}).get(active, {}) or {}).get("PREFECT_API_URL") or None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class EarlyServer:
    """A temporary Prefect server started now; ``wait()`` before the first flow runs."""

    def __init__(self) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}/api"
        env = {**os.environ, "PREFECT_UI_ENABLED": "0", "PREFECT__SERVER_EPHEMERAL": "1",
               "PREFECT__SERVER_FINAL": "1",
               # no block types to register in a temporary database (~0.8 s of its start)
               "PREFECT_API_BLOCKS_REGISTER_ON_START": os.environ.get("PREFECT_API_BLOCKS_REGISTER_ON_START", "false")}
        env.pop("PYTHONDONTWRITEBYTECODE", None)   # the server's modules' bytecode is cached too (cli.py)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "--factory", "prefect.server.api.server:create_app",
             "--host", "127.0.0.1", "--port", str(self.port), "--log-level", "error", "--lifespan", "on"],
            env=env, stdin=subprocess.DEVNULL)
        os.environ["PREFECT_API_URL"] = self.url    # before Prefect reads its settings
        atexit.register(self.stop)

    def wait(self, timeout_s: float) -> None:
        """Until the server answers; RuntimeError if it exits or does not answer in time."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"Prefect 临时服务器未能启动 (the temporary Prefect server exited with "
                                   f"code {self.process.returncode})")
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=1) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.05)
        raise RuntimeError(f"Prefect 临时服务器 {timeout_s:.0f} 秒内未响应 (the temporary Prefect server did not "
                           f"answer in {timeout_s:.0f} s; GIODQ_PREFECT_STARTUP_TIMEOUT_S)")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if os.environ.get("PREFECT_API_URL") == self.url:
            del os.environ["PREFECT_API_URL"]


def start_early() -> EarlyServer | None:
    """The temporary server, started now, unless a server is configured."""
    return None if configured_api() else EarlyServer()


def flow_settings(server: EarlyServer | None):
    """The Prefect settings a command's flow runs under. On giodq's temporary server, no flow-run
    heartbeats: they let a server that outlives a run tell that it crashed, and this one stops with
    the command, while the heartbeat thread sleeps in 1 s steps and is joined as the flow ends (up
    to 1 s of every command). A configured server keeps Prefect's own settings."""
    if server is None:
        return contextlib.nullcontext()
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    return temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None})
