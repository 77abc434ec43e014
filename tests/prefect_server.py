"""A real Prefect server on 127.0.0.1 for tests, started and stopped by them (own PREFECT_HOME)."""
from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request

from s3_server import _free_port


@contextlib.contextmanager
def prefect_server(home):
    """Yields the environment for `prefect` commands against a fresh server (API URL, home)."""
    port = _free_port()
    api = f"http://127.0.0.1:{port}/api"
    env = os.environ | {"PREFECT_HOME": str(home), "PREFECT_API_URL": api,
                        "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "PREFECT_WORKER_QUERY_SECONDS": "1",
                        "PREFECT_WORKER_PREFETCH_SECONDS": "1"}
    log = open(os.path.join(home, "server.log"), "w")
    proc = subprocess.Popen([sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1",
                             "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 180   # 17-26 s on 2 cores
        while True:
            try:
                urllib.request.urlopen(f"{api}/health", timeout=2)
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("Prefect server did not start: " + open(log.name).read()[-2000:]) from None
                time.sleep(0.5)
        yield env
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def api(env: dict, path: str, body: dict | None = None) -> dict | list:
    """POST (or GET without a body) to the server's REST API. A 503 is asked again, as Prefect's own
    client does: the server answers it when its SQLite database is busy (seen once in CI, on 2 cores)."""
    req = urllib.request.Request(env["PREFECT_API_URL"] + path, method="POST" if body is not None else "GET",
                                 data=None if body is None else json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    for wait in (0.5, 1, 2, 4, None):
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return json.loads(resp.read())
        except urllib.error.HTTPError as e:
            if e.code != 503 or wait is None:
                raise
            time.sleep(wait)
