"""An S3 endpoint that breaks on cue: a forwarding proxy in front of moto's server that, once
armed, answers every request after the n-th PUT with 503 (the endpoint going away mid-upload),
or every request for some objects (an object that cannot be read), or every PUT of some."""
from __future__ import annotations

import contextlib
import http.client
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit


class Faults:
    def __init__(self):
        self.puts_left: int | None = None    # None: pass everything through
        self.paths: set[str] = set()         # requests for these object paths always fail
        self.puts: set[str] = set()          # PUTs of these object paths always fail
        self.refused = 0
        self.lock = threading.Lock()

    def arm(self, puts: int) -> None:
        with self.lock:
            self.puts_left, self.refused = puts, 0

    def disarm(self) -> None:
        with self.lock:
            self.puts_left = None

    def refuse(self, method: str, path: str = "") -> bool:
        with self.lock:
            if any(p in path for p in self.paths) or (method == "PUT" and any(p in path for p in self.puts)):
                self.refused += 1
                return True
            if self.puts_left is None:
                return False
            if self.puts_left > 0:
                self.puts_left -= method == "PUT"
                return False
            self.refused += 1
            return True


@contextlib.contextmanager
def faulty_endpoint(target: str):
    """Yields (url, faults): the proxy's URL, and the switch that breaks it."""
    faults = Faults()
    upstream = urlsplit(target)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _forward(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if faults.refuse(self.command, urllib.parse.unquote(self.path)):
                self.send_response(503)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            conn = http.client.HTTPConnection(upstream.hostname, upstream.port, timeout=30)
            try:
                conn.request(self.command, self.path, body=body, headers=dict(self.headers))
                resp = conn.getresponse()
                data = resp.read()
            finally:
                conn.close()
            self.send_response(resp.status)
            for k, v in resp.getheaders():
                if k.lower() not in ("transfer-encoding", "content-length", "connection"):
                    self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _forward

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", faults
    finally:
        server.shutdown()
        server.server_close()
