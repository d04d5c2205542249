"""Versioned model artefacts in a registry: a local folder or a `gs://bucket/prefix`.

Layout (the same in both): `<root>/versions/<version>/model.json` (the model, plain JSON, no
pickle, so loading an artefact never runs code), `<root>/versions/<version>/metadata.json`
(threshold, feature schema, training-data range, metrics) and `<root>/LATEST` naming the
newest version. Versions are `v0001`, `v0002`, ... in order of registration.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

VERSION_PATTERN = re.compile(r"^v(\d{4,})$")
LATEST = "latest"


class RegistryError(LookupError):
    """The registry or a version in it cannot be read."""


class ArtefactStore(Protocol):
    """Bytes at relative paths: the only thing a registry needs from its storage."""

    def read(self, path: str) -> bytes: ...

    def write(self, path: str, data: bytes) -> None: ...

    def list(self, prefix: str) -> list[str]: ...


class FolderStore:
    """An artefact store in a local folder."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def read(self, path: str) -> bytes:
        try:
            return (self.root / path).read_bytes()
        except FileNotFoundError as exc:
            raise RegistryError(f"{self.root / path} does not exist") from exc

    def write(self, path: str, data: bytes) -> None:
        target = self.root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(target.suffix + ".tmp")
        tmp.write_bytes(data)
        tmp.replace(target)  # atomic, so a reader never sees half an artefact

    def list(self, prefix: str) -> list[str]:
        base = self.root / prefix
        if not base.is_dir():
            return []
        return sorted(p.name for p in base.iterdir())


def open_store(uri: str) -> ArtefactStore:
    """The store for a registry URI: `gs://bucket/prefix` or a local path."""
    if uri.startswith("gs://"):
        from anomaly_detection_model.vertex.storage import GcsStore

        return GcsStore(uri)
    if "://" in uri and not uri.startswith("file://"):
        raise RegistryError(f"registry: unsupported URI scheme in {uri!r} (use a path or gs://)")
    return FolderStore(uri.removeprefix("file://"))


@dataclass(frozen=True)
class Artefact:
    """One registered model version."""

    version: str
    model: dict[str, Any]
    metadata: dict[str, Any]


class Registry:
    """Registers model versions and finds them again by name or as `latest`."""

    def __init__(self, uri: str, store: ArtefactStore | None = None) -> None:
        self.uri = uri
        self.store = store or open_store(uri)

    def versions(self) -> list[str]:
        found = [v for v in self.store.list("versions") if VERSION_PATTERN.match(v)]
        return sorted(found, key=lambda v: int(v[1:]))

    def register(self, model: dict[str, Any], metadata: dict[str, Any]) -> str:
        """Store a new version and point `latest` at it; return the version name."""
        existing = self.versions()
        number = int(existing[-1][1:]) + 1 if existing else 1
        version = f"v{number:04d}"
        metadata = {**metadata, "version": version}
        self.store.write(f"versions/{version}/model.json", _dump(model))
        self.store.write(f"versions/{version}/metadata.json", _dump(metadata))
        self.store.write("LATEST", version.encode())
        return version

    def resolve(self, version: str = LATEST) -> str:
        """The concrete version a name means (`latest` → the newest registered)."""
        if version != LATEST:
            if not VERSION_PATTERN.match(version):
                raise RegistryError(f"version: {version!r} is not 'latest' or like 'v0001'")
            return version
        try:
            named = self.store.read("LATEST").decode().strip()
        except RegistryError:
            named = ""
        if named:
            return named
        existing = self.versions()
        if not existing:
            raise RegistryError(f"registry {self.uri!r} holds no model versions")
        return existing[-1]

    def load(self, version: str = LATEST) -> Artefact:
        concrete = self.resolve(version)
        model = _parse(self.store.read(f"versions/{concrete}/model.json"), "model.json")
        metadata = _parse(self.store.read(f"versions/{concrete}/metadata.json"), "metadata.json")
        return Artefact(concrete, model, metadata)

    def metadata(self, version: str = LATEST) -> dict[str, Any]:
        concrete = self.resolve(version)
        return _parse(self.store.read(f"versions/{concrete}/metadata.json"), "metadata.json")


def _dump(data: dict[str, Any]) -> bytes:
    return json.dumps(data, indent=1, sort_keys=True).encode()


def _parse(data: bytes, name: str) -> dict[str, Any]:
    try:
        parsed = json.loads(data)
    except json.JSONDecodeError as exc:
        raise RegistryError(f"{name}: not valid JSON ({exc.msg} at line {exc.lineno})") from exc
    if not isinstance(parsed, dict):
        raise RegistryError(f"{name}: expected a JSON object")
    return parsed
