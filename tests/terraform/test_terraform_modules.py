"""Every Terraform module follows the house style and is wired correctly (parsed with python-hcl2).

Checks: the standard files, typed and described variables with optional() defaults, described
outputs, a module-made service account for every resource that runs as one, names built from
`prefix`, providers declared, and the example env (and each README example) setting every
required variable.
"""

from __future__ import annotations

import re
from typing import Any

import hcl2
import pytest
from terraform_layout import EXAMPLE, MODULE_NAMES, MODULES, Module, Resource, unquote

STANDARD_FILES = ("README.md", "main.tf", "variables.tf", "outputs.tf", "versions.tf")

# Where each resource type that runs as (or mints tokens for) a service account names it.
SERVICE_ACCOUNT_PATHS: dict[str, tuple[tuple[str | int, ...], ...]] = {
    "google_cloud_run_v2_service": (("template", 0, "service_account"),),
    "google_cloud_run_v2_job": (("template", 0, "template", 0, "service_account"),),
    "google_dataflow_flex_template_job": (("service_account_email",),),
    "google_cloud_scheduler_job": (
        ("http_target", 0, "oauth_token", 0, "service_account_email"),
        ("http_target", 0, "oidc_token", 0, "service_account_email"),
    ),
    "google_pubsub_subscription": (("push_config", 0, "oidc_token", 0, "service_account_email"),),
}
# Attributes that name the resource itself.
NAME_ATTRIBUTES = ("name", "account_id", "secret_id", "dataset_id", "repository_id", "display_name")


def _dig(body: Any, path: tuple[str | int, ...]) -> Any:
    for step in path:
        if isinstance(step, int):
            if not isinstance(body, list) or len(body) <= step:
                return None
        elif not isinstance(body, dict) or step not in body:
            return None
        body = body[step]
    return body


def _required(module: Module) -> set[str]:
    return {name for name, body in module.variables.items() if "default" not in body}


@pytest.mark.parametrize("name", MODULE_NAMES)
def test_module_has_the_standard_files(name: str) -> None:
    missing = [f for f in STANDARD_FILES if not (MODULES / name / f).is_file()]
    assert missing == [], f"{name} lacks {missing}"


@pytest.mark.parametrize("name", MODULE_NAMES)
def test_variables_are_typed_described_and_objects_default_with_optional(
    modules: dict[str, Module], name: str
) -> None:
    module = modules[name]
    assert {"project_id", "prefix"} <= set(module.variables), (
        "every module takes project_id and prefix"
    )
    for var, body in module.variables.items():
        assert body.get("type"), f"{name}: variable {var} has no type"
        assert unquote(str(body.get("description", ""))).strip(), f"{name}: {var} undescribed"
        type_text = str(body["type"])
        if type_text.startswith("${object(") and body.get("default") == {}:
            # An object defaulting to {} must make every attribute optional().
            attributes = re.findall(r"(\w+)\s*=\s*(optional\()?", type_text)
            required = [a for a, optional in attributes if not optional]
            assert required == [], f"{name}: {var} defaults to {{}} but requires {required}"


@pytest.mark.parametrize("name", MODULE_NAMES)
def test_outputs_exist_and_are_described(modules: dict[str, Module], name: str) -> None:
    module = modules[name]
    assert module.outputs, f"{name} has no outputs"
    for output, body in module.outputs.items():
        assert unquote(str(body.get("description", ""))).strip(), f"{name}: {output} undescribed"
        assert "value" in body


@pytest.mark.parametrize("name", MODULE_NAMES)
def test_every_service_account_comes_from_the_module(modules: dict[str, Module], name: str) -> None:
    module = modules[name]
    own_accounts = {r.name for r in module.resources if r.type == "google_service_account"}
    checked = 0
    for resource in module.resources:
        paths = SERVICE_ACCOUNT_PATHS.get(resource.type)
        if paths is None:
            continue
        if resource.type == "google_pubsub_subscription" and "push_config" not in resource.body:
            continue  # pull subscriptions run as nobody
        values = [v for v in (_dig(resource.body, p) for p in paths) if v is not None]
        assert values, f"{name}: {resource.address} names no service account (default account!)"
        for value in values:
            match = re.fullmatch(r"\$\{google_service_account\.(\w+)\.email\}", str(value))
            assert match, f"{name}: {resource.address} uses {value}, not a module account"
            assert match.group(1) in own_accounts
            checked += 1
    assert "compute@developer" not in module.text
    assert "-compute@" not in module.text
    if name in ("telemetry", "pipeline", "model", "healing_service", "chatops"):
        assert checked, f"{name} should run something as its own account"


def test_vertex_pipeline_runs_as_the_training_account(modules: dict[str, Module]) -> None:
    body = modules["model"].locals["pipeline_body"]
    assert body["serviceAccount"] == "${google_service_account.training.email}"


def _mentions_prefix(module: Module, resource: Resource, expression: str) -> bool:
    if "var.prefix" in expression:
        return True
    for local in re.findall(r"local\.(\w+)", expression):
        if "var.prefix" in module.local_expression(local):
            return True
    if "each.value" in expression or "each.key" in expression:
        return _mentions_prefix(module, resource, str(resource.body.get("for_each", "")))
    # A reference to another resource's name (e.g. IAM on a bucket) inherits its name.
    return (
        re.search(r"\b(google|kubernetes)_\w+\.\w+(\[[^\]]+\])?\.(name|id|secret_id)", expression)
        is not None
    )


@pytest.mark.parametrize("name", MODULE_NAMES)
def test_names_use_the_prefix(modules: dict[str, Module], name: str) -> None:
    module = modules[name]
    checked = 0
    for resource in module.resources:
        if resource.type.endswith(("_iam_member", "_iam_binding", "_iam_policy")):
            continue
        attributes = {a: resource.body[a] for a in NAME_ATTRIBUTES if a in resource.body}
        metadata_name = _dig(resource.body, ("metadata", 0, "name"))
        if metadata_name is not None:
            attributes["metadata.name"] = metadata_name
        for attribute, value in attributes.items():
            assert _mentions_prefix(module, resource, str(value)), (
                f"{name}: {resource.address}.{attribute} = {value} does not use var.prefix"
            )
            checked += 1
    assert checked


@pytest.mark.parametrize("name", MODULE_NAMES)
def test_providers_of_every_resource_are_declared(modules: dict[str, Module], name: str) -> None:
    module = modules[name]
    versions = hcl2.loads((MODULES / name / "versions.tf").read_text())
    declared = set()
    for block in versions["terraform"][0]["required_providers"]:
        declared |= set(block)
    for resource in module.resources:
        provider = str(resource.body.get("provider", resource.type.split("_")[0]))
        provider = provider.strip("${}")
        assert provider in declared, f"{name}: {resource.address} needs provider {provider}"
    assert not re.search(
        r'"(us|europe|asia|australia|northamerica|southamerica)-[a-z]+\d"', module.text
    ), f"{name} hard-codes a region"


def test_example_uses_every_module_and_sets_required_variables(
    modules: dict[str, Module], example: Module
) -> None:
    used = {}
    for call, body in example.modules.items():
        source = unquote(str(body["source"]))
        used[source.rsplit("/", 1)[-1]] = body
        assert call == source.rsplit("/", 1)[-1], f"module {call} should be named after its folder"
        assert source == f"../../modules/{source.rsplit('/', 1)[-1]}"
    assert set(used) == set(MODULE_NAMES)
    for name, body in used.items():
        missing = _required(modules[name]) - set(body)
        assert missing == set(), f"example's module {name} misses required {sorted(missing)}"
        unknown = (
            set(body)
            - set(modules[name].variables)
            - {"source", "depends_on", "providers", "__is_block__"}
        )
        assert unknown == set(), f"example passes {sorted(unknown)} that {name} does not declare"
        assert body["prefix"] == "${var.prefix}"


def test_tfvars_example_sets_every_required_variable(example: Module) -> None:
    raw = hcl2.loads((EXAMPLE / "terraform.tfvars.example").read_text())
    tfvars = {k: v for k, v in raw.items() if not k.startswith("__")}
    assert _required(example) <= set(tfvars), sorted(_required(example) - set(tfvars))
    assert set(tfvars) <= set(example.variables)
    assert tfvars["healing_mode"] == '"observe"' or tfvars["healing_mode"] == "observe"


@pytest.mark.parametrize("name", MODULE_NAMES)
def test_readme_example_sets_every_required_variable(modules: dict[str, Module], name: str) -> None:
    readme = (MODULES / name / "README.md").read_text()
    blocks = re.findall(r"```hcl\n(.*?)```", readme, flags=re.S)
    assert blocks, f"{name}/README.md has no hcl example"
    parsed = hcl2.loads(blocks[0])
    (call,) = parsed["module"][0].values()
    missing = _required(modules[name]) - set(call)
    assert missing == set(), f"{name} README example misses {sorted(missing)}"
    assert set(call) - {"source", "__is_block__"} <= set(modules[name].variables)
