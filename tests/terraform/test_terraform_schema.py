"""Every argument and block of every resource exists in its provider's schema.

The offline half of `terraform validate`: names are checked against the schema each provider
publishes (google, google-beta, kubernetes; see provider_schema.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from provider_schema import PROVIDERS, SchemaUnavailable, fetch, load, unknown_arguments
from terraform_layout import (
    EXAMPLE,
    MODULE_NAMES,
    MODULES,
    Resource,
    missing_tool,
    need_tool,
    parse_folder,
)


@pytest.fixture(scope="session")
def schema_libs() -> dict[str, Path]:
    npm = need_tool("npm")
    try:
        return {name: fetch(npm, provider) for name, provider in PROVIDERS.items()}
    except (SchemaUnavailable, OSError, TimeoutError) as exc:
        missing_tool("provider schemas", str(exc))
        raise


def _provider_of(resource: Resource) -> str:
    declared = str(resource.body.get("provider", "")).strip("${}")
    return declared or resource.type.split("_")[0]


@pytest.mark.parametrize(
    "folder", [*[MODULES / n for n in MODULE_NAMES], EXAMPLE], ids=[*MODULE_NAMES, "example"]
)
def test_arguments_exist_in_the_provider_schema(schema_libs: dict[str, Path], folder: Path) -> None:
    module = parse_folder(folder)
    problems = []
    for resource in module.resources:
        provider = _provider_of(resource)
        schema = load(schema_libs[provider], PROVIDERS[provider], resource.type)
        assert schema is not None, f"{resource.type} is not a resource of the {provider} provider"
        problems += [f"{resource.address}: {p}" for p in unknown_arguments(schema, resource.body)]
    assert module.resources
    assert problems == []


def test_the_check_catches_a_misspelt_argument(
    schema_libs: dict[str, Path], tmp_path: Path
) -> None:
    (tmp_path / "main.tf").write_text(
        'resource "google_cloud_run_v2_service" "s" {\n'
        '  name     = "x"\n  location = "y"\n  ingres   = "INGRESS_TRAFFIC_ALL"\n'
        '  template {\n    service_acount = "a@b"\n    containers {\n'
        '      image = "i"\n      dynamic "envs" {\n        for_each = {}\n'
        "        content {\n          name = env.key\n        }\n      }\n    }\n  }\n}\n"
    )
    (resource,) = parse_folder(tmp_path).resources
    schema = load(schema_libs["google"], PROVIDERS["google"], resource.type)
    assert schema is not None
    assert sorted(unknown_arguments(schema, resource.body)) == [
        "ingres",
        "template.containers.envs (dynamic) is not a block",
        "template.service_acount",
    ]
    del resource.body["location"]
    assert "location is required" in unknown_arguments(schema, resource.body)
    assert sorted(unknown_arguments(schema, resource.body)) == [
        "ingres",
        "location is required",
        "template.containers.envs (dynamic) is not a block",
        "template.service_acount",
    ]
