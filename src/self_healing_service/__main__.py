"""`python -m self_healing_service`: run the service under uvicorn with settings from HEAL_*."""

from __future__ import annotations

import argparse
import os

import uvicorn

from self_healing_service.app import create_app
from self_healing_service.clock import SystemClock
from self_healing_service.logs import configure_logging
from self_healing_service.settings import Settings
from self_healing_service.store.base import Store
from self_healing_service.store.sqlite import SqliteStore


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m self_healing_service")
    parser.add_argument("--host", default=os.environ.get("HOST", "0.0.0.0"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8080")))
    args = parser.parse_args()
    settings = Settings()
    configure_logging(settings.log_level)
    from self_healing_service.kube.gateway import KubernetesGateway, api_client

    gateway = KubernetesGateway(
        api_client(settings.kubeconfig),
        attempts=settings.kube_retries,
        backoff=settings.kube_backoff_seconds,
        timeout=settings.kube_timeout_seconds,
    )
    store: Store
    if settings.store == "firestore":
        from self_healing_service.gcp.firestore import connect

        store = connect(settings.project_id, settings.firestore_database)
    else:
        store = SqliteStore(settings.sqlite_path)
    verifier = None
    if settings.push_auth == "oidc":
        from self_healing_service.gcp import OidcVerifier

        verifier = OidcVerifier(
            settings.push_audience, settings.push_service_account, settings.oidc_certs_url
        )
    app = create_app(settings, gateway, store, SystemClock(), verifier=verifier)
    uvicorn.run(app, host=args.host, port=args.port, log_config=None, access_log=False)


if __name__ == "__main__":
    main()
