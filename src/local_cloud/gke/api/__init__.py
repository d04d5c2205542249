"""The simulated cluster's Kubernetes REST API, served over HTTP on loopback.

`ApiServer(store, runtime=None, host="127.0.0.1", port=0, rbac=None).start()` returns the base
URL; `local_cloud.gke.kubeconfig.write_kubeconfig` writes a kubeconfig pointing at it.
"""

from local_cloud.gke.api.server import SYSTEM_NAMESPACES, ApiServer

__all__ = ["SYSTEM_NAMESPACES", "ApiServer"]
