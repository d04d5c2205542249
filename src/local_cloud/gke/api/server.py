"""`ApiServer`: the simulated cluster's Kubernetes API over real HTTP on loopback.

A threaded stdlib HTTP/1.1 server: one thread per connection, keep-alive, and chunked
transfer for watches and `logs -f`. It runs in background threads; `start()` returns the URL.
"""

from __future__ import annotations

import contextlib
import logging
import select
import socket
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import parse_qs, unquote, urlsplit

from local_cloud.gke.api.admission import default
from local_cloud.gke.api.messages import Request, Response
from local_cloud.gke.api.resources import find
from local_cloud.gke.api.router import ApiRouter
from local_cloud.gke.api.tls import ServingCertificate, self_signed
from local_cloud.gke.rbac import Rbac
from local_cloud.gke.runtime import ClusterRuntime
from local_cloud.gke.store import AlreadyExists, ObjectStore

log = logging.getLogger(__name__)

SYSTEM_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")


class _HttpServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = 128
    router: ApiRouter


def _client_gone(connection: socket.socket) -> bool:
    """True when the peer has closed the connection (readable with no data)."""
    try:
        readable, _, _ = select.select([connection], [], [], 0)
        if not readable:
            return False
        if isinstance(connection, ssl.SSLSocket):
            return True  # a streaming client sends nothing more; readable means close_notify/EOF
        return connection.recv(1, socket.MSG_PEEK) == b""
    except OSError:
        return True


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _HttpServer

    def log_message(self, format: str, *args: object) -> None:
        log.debug("%s %s", self.address_string(), format % args)

    def _serve(self) -> None:
        url = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        body = self._read_body()
        headers = {k.lower(): v for k, v in self.headers.items()}
        request = Request(self.command, unquote(url.path), query, headers, body)
        response = self.server.router.handle(request)
        if response.stream is None:
            self._send_whole(response)
        else:
            self._send_stream(response)

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            parts: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(parts)
                parts.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _head(self, response: Response) -> None:
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Cache-Control", "no-cache, private")
        for name, value in response.headers.items():
            self.send_header(name, value)

    def _send_whole(self, response: Response) -> None:
        self._head(response)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        self.wfile.write(response.body)

    def _send_stream(self, response: Response) -> None:
        assert response.stream is not None
        self._head(response)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.wfile.flush()
        stream = response.stream
        try:
            for chunk in stream:
                if not chunk:
                    if _client_gone(self.connection):
                        break
                    continue
                self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                self.wfile.flush()
            else:
                self.wfile.write(b"0\r\n\r\n")
                self.wfile.flush()
                return
        except (BrokenPipeError, ConnectionResetError):
            pass
        finally:
            with contextlib.suppress(Exception):
                stream.close()  # type: ignore[attr-defined]
        self.close_connection = True

    do_GET = _serve  # noqa: N815 - names the stdlib dispatches on
    do_POST = _serve  # noqa: N815
    do_PUT = _serve  # noqa: N815
    do_PATCH = _serve  # noqa: N815
    do_DELETE = _serve  # noqa: N815


class ApiServer:
    """Serves `store` (and `runtime`'s logs and usage) as a Kubernetes API server.

    >>> with ApiServer(ObjectStore()) as server:  # doctest: +SKIP
    ...     write_kubeconfig(path, server.url)
    """

    def __init__(
        self,
        store: ObjectStore,
        runtime: ClusterRuntime | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        rbac: Rbac | None = None,
        tls: bool = False,
    ) -> None:
        self.store = store
        self.runtime = runtime
        self.host = host
        self.port = port
        self.rbac = rbac
        # kubectl sends bearer tokens only over HTTPS: serve TLS when tokens are checked.
        self.certificate: ServingCertificate | None = self_signed(host) if tls or rbac else None
        self._stopping = threading.Event()
        self._http: _HttpServer | None = None
        self._router: ApiRouter | None = None
        self._thread: threading.Thread | None = None
        self.url = ""

    def ensure_namespaces(self) -> None:
        namespaces = find("", "v1", "namespaces")
        assert namespaces is not None
        for name in SYSTEM_NAMESPACES:
            obj = {"metadata": {"name": name}}
            default(namespaces, obj)
            with contextlib.suppress(AlreadyExists):
                self.store.create("namespaces", obj)

    def start(self) -> str:
        """Start serving in background threads; returns the base URL (`http://127.0.0.1:PORT`)."""
        if self._http is not None:
            return self.url
        self.ensure_namespaces()
        self._stopping.clear()
        http = _HttpServer((self.host, self.port), _Handler)
        if self._router is None or self._router.runtime is not self.runtime:
            # One router per server (it registers a store listener for its caches).
            self._router = ApiRouter(self.store, self.runtime, self.rbac, self._stopping)
        http.router = self._router
        host, port = str(http.server_address[0]), http.server_address[1]
        self.port = int(port)
        scheme = "http"
        if self.certificate is not None:
            context = self.certificate.server_context()
            # The handshake happens in each connection's thread, not in the accept loop.
            http.socket = context.wrap_socket(
                http.socket, server_side=True, do_handshake_on_connect=False
            )
            scheme = "https"
        self.url = f"{scheme}://{host}:{self.port}"
        http.router.address = f"{host}:{self.port}"
        self._http = http
        self._thread = threading.Thread(
            target=http.serve_forever,
            kwargs={"poll_interval": 0.2},
            name=f"kube-api-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self.url

    def stop(self) -> None:
        """Stop accepting requests and end open watches and log streams."""
        self._stopping.set()
        if self._http is not None:
            self._http.shutdown()
            self._http.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._http = None
        self._thread = None

    @property
    def ca_pem(self) -> bytes | None:
        """The certificate clients should trust (None when serving plain HTTP)."""
        return self.certificate.cert_pem if self.certificate is not None else None

    def __enter__(self) -> ApiServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
