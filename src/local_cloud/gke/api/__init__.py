"""The simulated cluster's Kubernetes REST API, served over HTTP(S) on loopback.

    server = ApiServer(store, runtime=cluster)           # runtime: logs, usage, graceful delete
    url = server.start()                                  # "http://127.0.0.1:<port>", background
    write_kubeconfig(path, url)                           # local_cloud.gke.kubeconfig
    ...
    server.stop()                                         # or `with ApiServer(...) as server:`

With `rbac=Rbac(...)` (or `tls=True`) it serves HTTPS with a self-signed certificate, because
kubectl sends bearer tokens only over TLS: pass `ca_pem=server.ca_pem` to `write_kubeconfig`.
It reports `/version` 1.32 (the machine's kubectl dispatcher then runs kubectl 1.32), serves
aggregated and legacy discovery, OpenAPI v3 for `kubectl create/apply -f`, Tables, watches,
the four patch types and the subresources kubectl uses; request bodies must be JSON or YAML
(kubectl's protobuf-only commands such as `kubectl create deployment` get a 415 that says so).
"""

from local_cloud.gke.api.server import SYSTEM_NAMESPACES, ApiServer

__all__ = ["SYSTEM_NAMESPACES", "ApiServer"]
