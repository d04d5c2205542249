"""Argument and block names of Terraform resources, read from the provider's published bindings.

`terraform validate` needs the provider binary, which cannot be downloaded here. The npm package
`@cdktf/provider-google` is generated from the provider's schema and names every argument and
nested block of every resource in TypeScript declarations (with a link to the Terraform name),
so it is a faithful offline copy of the schema. Fetched with `npm pack`, cached beside checkov.
"""

from __future__ import annotations

import re
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from terraform_layout import REPO, unquote

CACHE = REPO / ".venv-scan" / "provider-schemas"
META_ARGUMENTS = {"count", "for_each", "depends_on", "provider", "lifecycle", "provisioner"}

_INTERFACE = re.compile(r"^export interface (\w+)")
_ANCHOR = re.compile(r"#([a-z0-9_]+) \w+#[a-z0-9_]+\}")
_PROPERTY = re.compile(r"^\s+readonly \w+(\??): (.*)$")


class SchemaUnavailable(RuntimeError):
    """The bindings could not be fetched (no npm, no registry)."""


@dataclass(frozen=True)
class Provider:
    """One provider's published bindings: npm package, version, and how resource folders are named."""

    package: str
    version: str
    strip: str  # prefix of the resource type that the folder name drops

    def folder(self, resource_type: str) -> str:
        return resource_type.removeprefix(self.strip).replace("_", "-")


PROVIDERS = {
    "google": Provider("@cdktf/provider-google", "14.35.0", "google_"),  # hashicorp/google 6.36.0
    "google-beta": Provider("@cdktf/provider-google-beta", "16.12.1", ""),  # google-beta 6.50.0
    "kubernetes": Provider("@cdktf/provider-kubernetes", "12.1.1", "kubernetes_"),  # 2.38.0
}


def fetch(npm: str, provider: Provider) -> Path:
    """Unpack the package's declaration files once into the cache; return the `lib` folder."""
    cache = CACHE / f"{provider.package.rsplit('/', 1)[-1]}-{provider.version}"
    lib = cache / "package" / "lib"
    if (cache / ".complete").exists():
        return lib
    cache.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        [npm, "pack", f"{provider.package}@{provider.version}", "--pack-destination", str(cache),
         "--silent"],
        capture_output=True, text=True, timeout=300, cwd=cache,
    )  # fmt: skip
    if result.returncode != 0:
        raise SchemaUnavailable(result.stderr[-500:] or "npm pack failed")
    archive = cache / result.stdout.strip().splitlines()[-1]
    with tarfile.open(archive) as tar:
        members = [m for m in tar.getmembers() if m.name.endswith("/index.d.ts") and m.isfile()]
        tar.extractall(cache, members=members, filter="data")
    archive.unlink()
    (cache / ".complete").write_text(provider.version)
    return lib


@dataclass
class Schema:
    """Interfaces of one resource: name -> {terraform argument: nested block interface or None}."""

    config: str
    interfaces: dict[str, dict[str, str | None]]
    required: dict[str, set[str]]


def load(lib: Path, provider: Provider, resource_type: str) -> Schema | None:
    """The schema of a resource type from `lib/<folder>/index.d.ts`, or None if there is none."""
    path = lib / provider.folder(resource_type) / "index.d.ts"
    if not path.is_file():
        return None
    interfaces: dict[str, dict[str, str | None]] = {}
    required: dict[str, set[str]] = {}
    current: dict[str, str | None] | None = None
    config = ""
    anchor = None
    for line in path.read_text().splitlines():
        if match := _INTERFACE.match(line):
            current = interfaces.setdefault(match.group(1), {})
            must = required.setdefault(match.group(1), set())
            if "extends cdktf.TerraformMetaArguments" in line:
                config = match.group(1)
            continue
        if line.startswith("export "):
            current = None
        if current is None:
            continue
        if found := _ANCHOR.search(line):
            anchor = found.group(1)
        elif (prop := _PROPERTY.match(line)) and anchor:
            if not prop.group(1):
                must.add(anchor)
            names = re.findall(r"\b([A-Z]\w+)\b", prop.group(2))
            current[anchor] = next(
                (n for n in names if n in interfaces or n.endswith(tuple(interfaces))),
                names[0] if names else None,
            )
            anchor = None
    # Nested interfaces may be declared after use: keep only names that exist.
    for props in interfaces.values():
        for key, nested in props.items():
            if nested not in interfaces:
                props[key] = None
    return Schema(config=config, interfaces=interfaces, required=required) if config else None


def unknown_arguments(schema: Schema, body: dict[str, Any]) -> list[str]:
    """Paths of arguments or blocks in `body` that the resource does not have."""
    return _walk(schema, schema.config, body, "")


def _walk(schema: Schema, interface: str, body: dict[str, Any], path: str) -> list[str]:
    props = schema.interfaces[interface]
    problems = [
        f"{path}{name} is required"
        for name in sorted(schema.required.get(interface, set()) - set(body))
        if not (
            isinstance(body.get("dynamic"), list) and any(f'"{name}"' in d for d in body["dynamic"])
        )
    ]
    for key, value in body.items():
        if key.startswith("__") or key in META_ARGUMENTS:
            continue
        if key == "dynamic":
            for dynamic in value:
                for label, spec in dynamic.items():
                    name = unquote(label)
                    if name not in props or props[name] is None:
                        problems.append(f"{path}{name} (dynamic) is not a block")
                        continue
                    for content in spec.get("content", []):
                        problems += _walk(schema, str(props[name]), content, f"{path}{name}.")
            continue
        if key not in props:
            problems.append(f"{path}{key}")
            continue
        nested = props[key]
        blocks = value if isinstance(value, list) else []
        if nested and blocks and all(isinstance(b, dict) and b.get("__is_block__") for b in blocks):
            for block in blocks:
                problems += _walk(schema, nested, block, f"{path}{key}.")
    return problems
