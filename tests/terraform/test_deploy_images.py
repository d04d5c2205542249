"""Container images: pinned bases, non-root users, the entry points Terraform runs, and the
Cloud Run environment matching the settings each service reads."""

from __future__ import annotations

import importlib
import importlib.util
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml
from terraform_layout import DEPLOY, EXAMPLE, Module, env_names, unquote

# Image name -> (Dockerfile folder, the entry point the image must run, Terraform module running it).
# Entry points of images built by other units are only required to exist (None).
IMAGES: dict[str, tuple[list[str] | None, str | None]] = {
    "healing": (["python", "-m", "self_healing_service"], "healing_service"),
    "chatops": (
        [
            "uvicorn",
            "--factory",
            "chatops.app:app_from_environment",
            "--host",
            "0.0.0.0",
            "--port",
            "8080",
            "--proxy-headers",
            "--no-access-log",
        ],
        "chatops",
    ),
    "metrics-exporter": (["python", "-m", "telemetry_pipeline.exporter"], "telemetry"),
    "training": (["python", "-m", "anomaly_detection_model.train"], None),
    "dataflow": (None, None),  # Beam's SDK harness; Dataflow runs the launcher itself
}
SERVICE_PORT = 8080
# The wheel force-includes the alert-policy definition (pyproject), so building the project
# from source in an image fails unless the image's build context copies it.
POLICIES = "terraform/modules/alerting/policies.json"
# Findings in images another unit owns, waiting for that unit (reported as xfail, never hidden).
AWAITING_OWNER: dict[tuple[str, str], str] = {}


@dataclass
class Stage:
    base: str
    alias: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def last(self, keyword: str) -> str | None:
        found = [arg for kw, arg in self.instructions if kw == keyword]
        return found[-1] if found else None


def parse_dockerfile(path: Path) -> list[Stage]:
    """Stages with their instructions (continuation lines joined, comments dropped)."""
    logical: list[str] = []
    buffer = ""
    for line in path.read_text().splitlines():
        stripped = line.strip()
        if not buffer and (not stripped or stripped.startswith("#")):
            continue
        if stripped.endswith("\\"):
            buffer += stripped[:-1] + " "
            continue
        logical.append(buffer + stripped)
        buffer = ""
    stages: list[Stage] = []
    for instruction in logical:
        keyword, _, argument = instruction.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            parts = [p for p in argument.split() if not p.startswith("--")]
            alias = parts[2] if len(parts) >= 3 and parts[1].lower() == "as" else None
            stages.append(Stage(base=parts[0], alias=alias))
        elif stages:
            stages[-1].instructions.append((keyword, argument.strip()))
    return stages


def _dockerfile(image: str) -> Path:
    path = DEPLOY / image / "Dockerfile"
    if not path.is_file():
        pytest.skip(f"{path.relative_to(DEPLOY.parent)} is not written yet (another unit's image)")
    return path


def _pinned(base: str) -> bool:
    if "@sha256:" in base:
        return True
    _, _, tag = base.rpartition(":")
    return "/" not in tag and re.match(r"^v?\d+\.\d+\.\d+", tag) is not None


@pytest.mark.parametrize("image", sorted(IMAGES))
def test_image_is_pinned_non_root_with_an_entry_point(image: str) -> None:
    stages = parse_dockerfile(_dockerfile(image))
    assert stages, "no FROM"
    aliases = {s.alias for s in stages if s.alias}
    for stage in stages:
        if stage.base in aliases:
            continue
        assert _pinned(stage.base), (
            f"{image}: base {stage.base} is not pinned to a digest or exact version"
        )
    final = stages[-1]
    user = final.last("USER")
    assert user is not None, f"{image}: the final stage runs as root (no USER)"
    assert user.split(":")[0] not in ("root", "0"), f"{image}: USER {user} is root"
    entry = final.last("ENTRYPOINT") or final.last("CMD")
    flex_launcher = any("FLEX_TEMPLATE_PYTHON_PY_FILE" in arg for _, arg in final.instructions)
    assert entry is not None or flex_launcher, f"{image}: no ENTRYPOINT/CMD"
    expected, _ = IMAGES[image]
    if expected is not None:
        assert entry is not None and json.loads(entry) == expected, f"{image}: entry point {entry}"


@pytest.mark.parametrize("image", sorted(IMAGES))
def test_building_the_project_copies_the_policy_definition(image: str) -> None:
    stages = parse_dockerfile(_dockerfile(image))
    for stage in stages:
        runs = " ".join(arg for kw, arg in stage.instructions if kw == "RUN")
        installs_project = re.search(r"pip install[^&;]*\s['\"]?\.(\[[^\]]*\])?['\"]?(\s|$)", runs)
        if not installs_project:
            continue
        copies = " ".join(arg for kw, arg in stage.instructions if kw in ("COPY", "ADD"))
        if POLICIES in copies or re.search(r"(^|\s)\.\s", copies + " "):
            continue
        if (image, "policies") in AWAITING_OWNER:
            pytest.xfail(AWAITING_OWNER[(image, "policies")])
        pytest.fail(f"{image}: builds the project without copying {POLICIES} (the wheel needs it)")


@pytest.mark.parametrize("image", [i for i, (entry, _) in IMAGES.items() if entry])
def test_entry_point_module_exists(image: str) -> None:
    entry, _ = IMAGES[image]
    assert entry is not None
    if entry[0] == "uvicorn":
        # `uvicorn --factory module:callable`: the callable must exist and take no arguments.
        target = next(arg for arg in entry[1:] if ":" in arg and not arg.startswith("-"))
        module_name, _, attribute = target.partition(":")
        factory = getattr(importlib.import_module(module_name), attribute, None)
        assert callable(factory), f"{target} is not a callable"
        assert "--port" in entry and entry[entry.index("--port") + 1] == str(SERVICE_PORT)
        return
    assert entry[:2] == ["python", "-m"]
    module = entry[2]
    package = module.split(".")[0]
    assert importlib.util.find_spec(package) is not None, f"{package} is not installed"
    spec = importlib.util.find_spec(module)
    if spec is None or (
        spec.submodule_search_locations is not None
        and importlib.util.find_spec(f"{module}.__main__") is None
    ):
        pytest.skip(f"`python -m {module}` has nothing to run yet (its unit has not written it)")


@pytest.mark.parametrize("image", [i for i, (_, module) in IMAGES.items() if module])
def test_terraform_runs_the_image_entry_point_on_the_image_port(
    modules: dict[str, Module], image: str
) -> None:
    _, name = IMAGES[image]
    module = modules[str(name)]
    containers = []
    for resource in module.resources:
        if resource.type == "google_cloud_run_v2_service":
            containers += resource.body["template"][0]["containers"]
        if resource.type == "google_cloud_run_v2_job":
            containers += resource.body["template"][0]["template"][0]["containers"]
    assert containers, f"{name} runs no container"
    for container in containers:
        assert "command" not in container and "args" not in container, (
            f"{name} overrides the image's entry point"
        )
        if "ports" in container:
            assert container["ports"][0]["container_port"] == SERVICE_PORT
            path = DEPLOY / image / "Dockerfile"
            if path.is_file():
                final = parse_dockerfile(path)[-1]
                exposed = final.last("EXPOSE") or ""
                env = " ".join(arg for kw, arg in final.instructions if kw == "ENV")
                assert str(SERVICE_PORT) in exposed or f"PORT={SERVICE_PORT}" in env


def test_cloud_build_builds_every_image_terraform_uses() -> None:
    build = yaml.safe_load((DEPLOY / "cloudbuild.yaml").read_text())
    built = {}
    for step in build["steps"]:
        args = step.get("args", [])
        if args[:1] == ["build"]:
            dockerfile = args[args.index("-f") + 1]
            tag = args[args.index("-t") + 1]
            built[dockerfile] = tag.rsplit("/", 1)[-1].split(":")[0]
    assert {f"deploy/{i}/Dockerfile": i for i in IMAGES} == built
    for path in DEPLOY.glob("*/Dockerfile"):
        assert str(path.relative_to(DEPLOY.parent)) in built, f"{path} is not built"
    pushed = {image.rsplit("/", 1)[-1].split(":")[0] for image in build["images"]}
    assert pushed == set(IMAGES)
    tfvars = (EXAMPLE / "terraform.tfvars.example").read_text()
    for name in re.findall(r"/gke-heal-images/([a-z-]+):", tfvars):
        assert name in pushed, f"tfvars example uses image {name} that Cloud Build does not push"


def _settings_env(module_name: str) -> tuple[set[str], set[str]]:
    """All environment names a settings module reads, and those without a default."""
    try:
        settings_module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and module_name.startswith(exc.name):
            pytest.skip(f"{module_name} is not written yet: cannot compare Terraform's env with it")
        raise
    from pydantic_settings import BaseSettings

    names: set[str] = set()
    required: set[str] = set()
    classes = [
        obj
        for obj in vars(settings_module).values()
        if isinstance(obj, type)
        and issubclass(obj, BaseSettings)
        and obj is not BaseSettings
        and obj.__module__ == module_name
    ]
    assert classes, f"{module_name} defines no pydantic-settings class"
    for cls in classes:
        prefix = str(cls.model_config.get("env_prefix", "")).upper()
        for field_name, info in cls.model_fields.items():
            candidates = {f"{prefix}{field_name}".upper()}
            for alias in (info.alias, info.validation_alias):
                if isinstance(alias, str):
                    candidates.add(alias.upper())
            names |= candidates
            if info.is_required():
                required |= candidates
    return names, required


@pytest.mark.parametrize(
    ("module_name", "settings", "prefix"),
    [
        ("healing_service", "self_healing_service.settings", "HEAL_"),
        ("chatops", "chatops.settings", "CHATOPS_"),
        ("telemetry", "telemetry_pipeline.exporter", "EXPORTER_"),
    ],
)
def test_cloud_run_env_matches_the_service_settings(
    modules: dict[str, Module], module_name: str, settings: str, prefix: str
) -> None:
    terraform_env = env_names(modules[module_name], prefix)
    assert terraform_env, f"{module_name} sets no {prefix}* variables"
    read, required = _settings_env(settings)
    unknown = terraform_env - read
    assert unknown == set(), f"Terraform sets {sorted(unknown)}, which {settings} does not read"
    unset = {name for name in required if name.startswith(prefix)} - terraform_env
    assert unset == set(), f"{settings} requires {sorted(unset)}, which Terraform does not set"


def test_terraform_env_names_carry_the_prefix(modules: dict[str, Module]) -> None:
    for name, prefix in (("healing_service", "HEAL_"), ("chatops", "CHATOPS_")):
        body = str(modules[name].locals.get("env", ""))
        keys = re.findall(r"\b([A-Z][A-Z0-9_]+)\s*=", body)
        assert keys and all(k.startswith(prefix) for k in keys), (name, keys)
    secrets = str(modules["chatops"].locals.get("secrets", ""))
    assert set(re.findall(r"\b(CHATOPS_[A-Z_]+)\s*=", secrets)) >= {
        "CHATOPS_SLACK_BOT_TOKEN",
        "CHATOPS_SLACK_SIGNING_SECRET",
    }
    assert unquote('"x"') == "x"


def test_dataflow_parameters_are_pipeline_options(modules: dict[str, Module]) -> None:
    """The Flex Template job passes only options the Beam pipeline defines (and its metadata lists)."""
    pipeline = pytest.importorskip("telemetry_pipeline.beam.pipeline")
    import argparse

    parser = argparse.ArgumentParser()
    pipeline.TelemetryOptions._add_argparse_args(parser)
    options = {action.dest for action in parser._actions}
    (job,) = [
        r for r in modules["pipeline"].resources if r.type == "google_dataflow_flex_template_job"
    ]
    passed = set(re.findall(r"\b([a-z_]+)\s*=", str(job.body["parameters"]).split("}, var.")[0]))
    assert passed, "the job passes no parameters"
    assert passed - options == set(), f"not pipeline options: {sorted(passed - options)}"
    metadata = DEPLOY / "dataflow" / "metadata.json"
    if metadata.is_file():
        params = json.loads(metadata.read_text()).get("parameters", [])
        declared = {p["name"] for p in params}
        assert passed - declared == set(), (
            f"missing from metadata.json: {sorted(passed - declared)}"
        )
        required = {p["name"] for p in params if not p.get("is_optional", False)}
        assert required - passed == set(), f"required but not passed: {sorted(required - passed)}"
