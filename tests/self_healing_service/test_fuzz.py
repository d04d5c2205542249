"""Schema-based fuzz of every endpoint (schemathesis over the app's own OpenAPI document, with
valid credentials so generated bodies reach the parsers), plus hypothesis-made JSON thrown at
the intake paths: nothing may answer 5xx."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import httpx
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from kubernetes import client

from self_healing_service.app import create_app
from self_healing_service.kube.gateway import KubernetesGateway
from self_healing_service.settings import Settings
from self_healing_service.store.sqlite import SqliteStore

_dir = Path(tempfile.mkdtemp(prefix="heal-fuzz-"))
SETTINGS = Settings(
    _env_file=None, mode="observe", sqlite_path=_dir / "fuzz.sqlite3", webhook_token="hook",
    alertmanager_token="am", api_token="api", push_auth="token", push_token="push",
    max_body_bytes=16_384,
)  # fmt: skip
NOWHERE = KubernetesGateway(client.ApiClient(client.Configuration(host="http://127.0.0.1:9")))
APP = create_app(SETTINGS, NOWHERE, SqliteStore(SETTINGS.sqlite_path), run_workers=False)
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)
AUTH = {
    "/alerts/monitoring": {},
    "/alerts/pubsub": {"Authorization": "Bearer push"},
    "/alerts/alertmanager": {"Authorization": "Bearer am"},
}


@schema.parametrize()
@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_endpoint_answers_5xx(case: schemathesis.Case) -> None:
    headers = AUTH.get(case.path, {"Authorization": "Bearer api"})
    params = {"auth_token": "hook"} if case.path == "/alerts/monitoring" else None
    response = case.call(headers=headers, params=params)
    assert response.status_code < 500, (case.path, response.text)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=20,
)


@given(path=st.sampled_from(sorted(AUTH)), body=JSON)
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_arbitrary_json_gets_a_4xx_or_an_acknowledgement(path: str, body: object) -> None:
    transport = httpx.ASGITransport(app=APP)

    async def send() -> httpx.Response:
        async with httpx.AsyncClient(transport=transport, base_url="http://heal") as http:
            return await http.post(
                path + ("?auth_token=hook" if path.endswith("monitoring") else ""),
                content=json.dumps(body), headers=AUTH[path],
            )  # fmt: skip

    import asyncio

    response = asyncio.run(send())
    assert response.status_code < 500
    assert response.status_code == 200 or "detail" in response.json()
