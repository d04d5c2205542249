"""A fault-injecting HTTP proxy in front of the simulator's API server: rules answer matching
requests with an error status or a delay before forwarding, a set number of times."""

from __future__ import annotations

import http.client
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit


@dataclass
class Rule:
    method: str
    path: str  # regex on the path+query
    status: int = 0  # 0: forward (after `delay`)
    delay: float = 0.0
    times: int = 1_000_000
    hits: int = 0
    dry_run: bool | None = False  # match dry runs only (True), real calls only (False), both (None)

    def matches(self, method: str, target: str) -> bool:
        if method != self.method or not re.search(self.path, target) or self.hits >= self.times:
            return False
        is_dry = "dryRun=All" in target
        return self.dry_run is None or self.dry_run == is_dry


@dataclass
class FaultyProxy:
    upstream: str
    rules: list[Rule] = field(default_factory=list)
    log: list[tuple[str, str, int]] = field(default_factory=list)
    url: str = ""

    def start(self) -> str:
        proxy = self
        up = urlsplit(self.upstream)

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _any(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                rule = next((r for r in proxy.rules if r.matches(self.command, self.path)), None)
                if rule is not None:
                    rule.hits += 1
                    if rule.delay:
                        time.sleep(rule.delay)
                    if rule.status:
                        payload = (
                            '{"kind":"Status","apiVersion":"v1","status":"Failure",'
                            f'"message":"injected","reason":"InternalError","code":{rule.status}}}'
                        ).encode()
                        proxy.log.append((self.command, self.path, rule.status))
                        self.send_response(rule.status)
                        self.send_header("Content-Type", "application/json")
                        self.send_header("Content-Length", str(len(payload)))
                        self.end_headers()
                        self.wfile.write(payload)
                        return
                connection = http.client.HTTPConnection(up.hostname, up.port, timeout=30)
                headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                connection.request(self.command, self.path, body or None, headers)
                response = connection.getresponse()
                data = response.read()
                proxy.log.append((self.command, self.path, response.status))
                self.send_response(response.status)
                for name, value in response.getheaders():
                    if name.lower() not in ("transfer-encoding", "content-length", "connection"):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                connection.close()

            do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _any  # noqa: N815

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        return self.url

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def count(self, method: str, path: str) -> int:
        return sum(1 for m, p, _ in self.log if m == method and re.search(path, p))
