"""Prefect's temporary API server, started as the command begins rather than when the flow first
needs it, so that its start (~3.4 s on 2 cores with a used Prefect home) runs while giodq imports
its libraries and checks the command (~3 s): the two overlap instead of adding up.

It is the server Prefect itself starts when no API is configured (``SubprocessASGIServer``: uvicorn
with ``prefect.server.api.server:create_app``, the UI off), started the same way, only earlier, and
told to the flow through ``PREFECT_API_URL``. A configured server (``PREFECT_API_URL`` in the
environment or in the active Prefect profile) is used as it is, and nothing is started.

The server is kept for the next command (GIODQ_SERVER_KEEP_S, 10 minutes by default; 0: it stops
with the command): a reviewer's reruns and the day's runs then start in ~3 s less. Files in the
Prefect home:

    giodq-server.json    the kept server: its address and its keeper's process
    giodq-server.lease   every command using the server holds a shared lock on it while it runs,
                         and touches it when it starts and ends
    giodq-server.start   taken while a command looks for the server or starts one
    giodq-server.log     what the server wrote

The keeper (``python -m giodq.prefect_server``, in a session of its own) runs the server and stops
it once no command holds the lease and none has touched it for GIODQ_SERVER_KEEP_S; it takes the
lease exclusively while it stops, so a command never finds a server that is being stopped.
"""
from __future__ import annotations

import argparse
import atexit
import contextlib
import fcntl
import json
import os
import signal
import socket
import subprocess
import sys
import time
import tomllib
import urllib.error
import urllib.request
from pathlib import Path

RECORD, LEASE, START, LOG = "giodq-server.json", "giodq-server.lease", "giodq-server.start", "giodq-server.log"


def _prefect_home() -> Path:
    # absolute: the keeper outlives the command, and is told the home by its command line
    return Path(os.environ.get("PREFECT_HOME", "~/.prefect")).expanduser().absolute()


def configured_api() -> str | None:
    """The API the user configured: PREFECT_API_URL in the environment, else in the active profile
    (read without importing Prefect, which costs seconds)."""
    if os.environ.get("PREFECT_API_URL"):
        return os.environ["PREFECT_API_URL"]
    path = Path(os.environ.get("PREFECT_PROFILES_PATH", _prefect_home() / "profiles.toml")).expanduser()
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


def _die_with_parent():
    """For Popen's preexec_fn: the child gets SIGTERM when the process that started it ends, however
    it ends (SIGKILL, the OOM killer), rather than serve on alone (Linux's PR_SET_PDEATHSIG)."""
    import ctypes

    parent = os.getpid()
    prctl = ctypes.CDLL(None, use_errno=True).prctl   # looked up here, not in the forked child

    def arrange() -> None:
        prctl(1, signal.SIGTERM)   # PR_SET_PDEATHSIG
        if os.getppid() != parent:   # it ended before the signal was arranged
            os._exit(1)
    return arrange


def _server(port: int) -> subprocess.Popen:
    """Prefect's server (uvicorn) on 127.0.0.1:port, as Prefect starts its temporary one; it ends
    with the process that starts it."""
    env = {**os.environ, "PREFECT_UI_ENABLED": "0", "PREFECT__SERVER_EPHEMERAL": "1",
           "PREFECT__SERVER_FINAL": "1",
           # no block types to register in a temporary database (~0.8 s of its start)
           "PREFECT_API_BLOCKS_REGISTER_ON_START": os.environ.get("PREFECT_API_BLOCKS_REGISTER_ON_START", "false")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)   # the server's modules' bytecode is cached too (cli.py)
    env.pop("PREFECT_API_URL", None)
    return subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "prefect.server.api.server:create_app",
         "--host", "127.0.0.1", "--port", str(port), "--log-level", "error", "--lifespan", "on"],
        env=env, stdin=subprocess.DEVNULL, preexec_fn=_die_with_parent())


def _url(port: int) -> str:
    return f"http://127.0.0.1:{port}/api"


class EarlyServer:
    """A temporary Prefect server started now; ``wait()`` before the first flow runs. It stops when
    the command ends."""

    def __init__(self) -> None:
        self.port = _free_port()
        self.url = _url(self.port)
        self.process = _server(self.port)
        os.environ["PREFECT_API_URL"] = self.url    # before Prefect reads its settings
        atexit.register(self.stop)

    def alive(self) -> bool:
        return self.process.poll() is None

    def wait(self, timeout_s: float) -> None:
        """Until the server answers; RuntimeError if it exits or does not answer in time."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if not self.alive():
                raise RuntimeError("Prefect 临时服务器未能启动 (the temporary Prefect server exited; "
                                   f"see {_prefect_home() / LOG} if it was kept)")
            if _answers(self.url):
                return
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
        self._unset_url()

    def _unset_url(self) -> None:
        if os.environ.get("PREFECT_API_URL") == self.url:
            del os.environ["PREFECT_API_URL"]


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=1) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


class KeptServer(EarlyServer):
    """The server a keeper runs for this and the next commands (the module's docstring): found in
    the Prefect home, or started now. The command holds the lease until it exits."""

    def __init__(self, keep_s: float) -> None:
        self.home, self.keep_s = _prefect_home(), keep_s
        self.home.mkdir(parents=True, exist_ok=True)
        # held (shared) for the command's life: the keeper cannot stop the server meanwhile
        self._lease = open(self.home / LEASE, "a")   # noqa: SIM115 (closed when the process ends)
        fcntl.flock(self._lease, fcntl.LOCK_SH)
        _touch(self.home / LEASE)
        self._find_or_start()
        self._touch_at_exit = True
        atexit.register(self._exit)   # the idle time counts from the last command's end

    def _find_or_start(self) -> None:
        with open(self.home / START, "a") as start:
            fcntl.flock(start, fcntl.LOCK_EX)
            record = _read_record(self.home)
            self.started = record is None
            if record is None:
                port = _free_port()
                with open(self.home / LOG, "wb") as log:   # the last keeper's log only
                    keeper = subprocess.Popen(
                        [sys.executable, "-m", "giodq.prefect_server", "--home", str(self.home), "--port", str(port),
                         "--keep", str(self.keep_s)],
                        stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True,
                        env={**os.environ, "PREFECT_HOME": str(self.home)})
                record = {"port": port, "pid": keeper.pid, **_installation()}
                (self.home / RECORD).write_text(json.dumps(record), encoding="utf-8")
        self.url, self.pid = _url(record["port"]), record["pid"]
        os.environ["PREFECT_API_URL"] = self.url

    def alive(self) -> bool:
        return _is_keeper(self.pid, self.home)

    def wait(self, timeout_s: float) -> None:
        """As EarlyServer's; a kept server that ended meanwhile (its keeper saw it exit) is started
        again, once."""
        try:
            super().wait(timeout_s)
        except RuntimeError:
            if self.alive():
                raise
            self._find_or_start()
            super().wait(timeout_s)

    def stop(self) -> None:
        """The command was refused before Prefect was used: a server it started itself is not kept
        (a command that took it over meanwhile holds the lease, and keeps it)."""
        if self.started:
            self._touch_at_exit = False
            _touch(self.home / LEASE, at=0)   # idle since long ago: the keeper stops it
        self._unset_url()

    def _exit(self) -> None:
        if self._touch_at_exit:
            _touch(self.home / LEASE)


def _touch(path: Path, at: float | None = None) -> None:
    """Set the file's times to ``at``, by default now on this machine's clock (as the keeper reads
    it; not a file server's)."""
    at = time.time() if at is None else at
    with contextlib.suppress(OSError):
        os.utime(path, (at, at))


def _read_record(home: Path) -> dict | None:
    """The kept server's record, if its keeper still runs, for this home, with this installation's
    Python and Prefect (a record left by a machine that went down names a process that is gone, or
    another one)."""
    try:
        record = json.loads((home / RECORD).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict) or type(record.get("port")) is not int \
            or any(record.get(k) != v for k, v in _installation().items()) or not _is_keeper(record.get("pid"), home):
        return None
    return record


def _installation() -> dict:
    """What a kept server must share with the command: the Python and the Prefect (an upgrade since
    the server started: a new one)."""
    from importlib.metadata import version

    return {"python": sys.executable, "prefect": version("prefect")}


def _is_keeper(pid, home: Path) -> bool:
    """Process ``pid`` is the keeper of ``home``'s server (its command line says so)."""
    if type(pid) is not int or pid <= 0:
        return False
    try:
        args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return b"giodq.prefect_server" in args and os.fsencode(home) in args


def start_early() -> EarlyServer | None:
    """The temporary server, started now (or the one kept by an earlier command), unless a server
    is configured."""
    if configured_api():
        return None
    from giodq.settings import settings

    keep_s = settings().server_keep_s
    if keep_s > 0:
        try:
            return KeptServer(keep_s)
        except OSError:   # a Prefect home it cannot write: a server for this command only
            pass
    return EarlyServer()


def flow_settings(server: EarlyServer | None):
    """The Prefect settings a command's flow runs under. On giodq's own server: its address (Prefect
    read its settings at import, before a kept server that had ended was started again), and no
    flow-run heartbeats: the heartbeat thread sleeps in 1 s steps and is joined as the flow ends (up
    to 1 s of every command), and nothing watches them on a server giodq starts for itself. A
    configured server keeps Prefect's own settings."""
    if server is None:
        return contextlib.nullcontext()
    from prefect.settings import PREFECT_API_URL, PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    return temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None, PREFECT_API_URL: server.url})


def keep(home: Path, port: int, keep_s: float, poll_s: float = 2.0) -> int:
    """The keeper: run the server until no command holds the lease and none touched it for
    ``keep_s``, or until the server exits."""
    server = _server(port)
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    try:
        while not stopping:
            try:   # a server that exits ends the keeper at once (the next command starts another)
                server.wait(timeout=min(poll_s, keep_s))
                break
            except subprocess.TimeoutExpired:
                pass
            with open(home / LEASE, "a") as lease:
                try:
                    fcntl.flock(lease, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:   # a command is using the server
                    continue
                if time.time() - (home / LEASE).stat().st_mtime >= keep_s:
                    _forget(home)   # under the lease: no command can find the record now
                    break
    finally:
        _forget(home)
        if server.poll() is None:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
    return 0


def _forget(home: Path) -> None:
    """Remove the record if it is this keeper's."""
    with contextlib.suppress(OSError, ValueError):
        if json.loads((home / RECORD).read_text(encoding="utf-8")).get("pid") == os.getpid():
            (home / RECORD).unlink()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m giodq.prefect_server",
                                     description="keep giodq's Prefect server for the next commands")
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--keep", type=float, required=True)
    args = parser.parse_args()
    sys.exit(keep(args.home, args.port, args.keep))
