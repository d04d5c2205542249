"""Where the Terraform and deploy files are, and the repository's `.tf` files parsed with python-hcl2."""

from __future__ import annotations

import importlib.util
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hcl2

REPO = Path(__file__).resolve().parents[2]
TERRAFORM = REPO / "terraform"
MODULES = TERRAFORM / "modules"
EXAMPLE = TERRAFORM / "envs" / "example"
DEPLOY = REPO / "deploy"


def _shared_conftest() -> Any:
    """tests/conftest.py, loaded by path (`conftest` names a different file in each folder)."""
    spec = importlib.util.spec_from_file_location(
        "tests_shared_conftest", REPO / "tests" / "conftest.py"
    )
    assert spec is not None and spec.loader is not None
    shared = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(shared)
    return shared


def missing_tool(name: str, reason: str) -> None:
    """Skip, or fail where GKE_HEAL_REQUIRE_TOOLS=1 (CI), because `name` cannot be used."""
    _shared_conftest().missing_tool(name, reason)


MODULE_NAMES = (
    "telemetry",
    "pipeline",
    "model",
    "alerting",
    "healing_service",
    "chatops",
    "gke_access",
)


def unquote(text: str) -> str:
    """hcl2 keeps the quotes of labels and literal strings: `'"name"'` -> `name`."""
    return text[1:-1] if len(text) >= 2 and text[0] == text[-1] == '"' else text


@dataclass
class Resource:
    type: str
    name: str
    body: dict[str, Any]

    @property
    def address(self) -> str:
        return f"{self.type}.{self.name}"


@dataclass
class Module:
    """One Terraform folder, parsed: variables, outputs, locals, resources, module calls."""

    name: str
    path: Path
    variables: dict[str, dict[str, Any]] = field(default_factory=dict)
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    locals: dict[str, Any] = field(default_factory=dict)
    resources: list[Resource] = field(default_factory=list)
    modules: dict[str, dict[str, Any]] = field(default_factory=dict)
    text: str = ""

    def local_expression(self, name: str) -> str:
        return str(self.locals.get(name, ""))


def parse_folder(path: Path) -> Module:
    module = Module(name=path.name, path=path)
    for tf in sorted(path.glob("*.tf")):
        text = tf.read_text()
        module.text += text
        parsed = hcl2.loads(text)
        for block in parsed.get("variable", []):
            for name, body in block.items():
                module.variables[unquote(name)] = body
        for block in parsed.get("output", []):
            for name, body in block.items():
                module.outputs[unquote(name)] = body
        for block in parsed.get("locals", []):
            module.locals.update({k: v for k, v in block.items() if not k.startswith("__")})
        for block in parsed.get("resource", []):
            for rtype, named in block.items():
                for rname, body in named.items():
                    module.resources.append(Resource(unquote(rtype), unquote(rname), body))
        for block in parsed.get("module", []):
            for name, body in block.items():
                module.modules[unquote(name)] = body
    return module


def env_names(module: Module, prefix: str) -> set[str]:
    """Environment variable names a module sets on its Cloud Run container (`PREFIX_...`)."""
    as_keys = re.findall(rf"\b({prefix}[A-Z0-9_]+)\s*=", module.text)  # env = { KEY = value }
    as_blocks = re.findall(rf'\bname\s*=\s*"({prefix}[A-Z0-9_]+)"', module.text)  # env { name = }
    return set(as_keys) | set(as_blocks)


def need_tool(name: str) -> str:
    """Path of a tool, or skip/fail as `require_tool` does (usable from session fixtures)."""
    path = _shared_conftest().find_tool(name)
    if path is None:
        missing_tool(name, "not found on PATH")
    return str(path)
