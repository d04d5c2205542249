"""Fixtures of the self-healing service's tests; the harness itself is `heal_harness`.

Real: the cluster simulator (`local_cloud.gke`) serving the Kubernetes API over HTTP on
loopback, the official Kubernetes client, SQLite files, the FastAPI app under uvicorn on a free
port, real service processes, and a ChatOps receiver that is a real HTTP server.
Faked: only the clock of the simulated cluster (ten times real time) and the OIDC signing key
(generated in the tests); everything crosses real sockets.
"""

from heal_harness import chatops, sim

__all__ = ["chatops", "sim"]
