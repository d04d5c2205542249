"""The registry on gs:// keeps the folder layout; the storage client is faked at GcsStore's seam."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from anomaly_detection_model.registry import Registry, RegistryError
from anomaly_detection_model.vertex.storage import GcsStore


@dataclass
class FakeBlob:
    name: str
    objects: dict[str, bytes]

    def exists(self) -> bool:
        return self.name in self.objects

    def download_as_bytes(self) -> bytes:
        return self.objects[self.name]

    def upload_from_string(self, data: bytes) -> None:
        self.objects[self.name] = data


@dataclass
class FakeBucket:
    objects: dict[str, bytes] = field(default_factory=dict)

    def blob(self, name: str) -> FakeBlob:
        return FakeBlob(name, self.objects)

    def list_blobs(self, prefix: str) -> list[FakeBlob]:
        return [FakeBlob(n, self.objects) for n in sorted(self.objects) if n.startswith(prefix)]


@dataclass
class FakeClient:
    buckets: dict[str, FakeBucket] = field(default_factory=dict)

    def bucket(self, name: str) -> FakeBucket:
        return self.buckets.setdefault(name, FakeBucket())


def test_register_and_load_latest_on_gcs() -> None:
    client = FakeClient()
    registry = Registry(
        "gs://models-bucket/gke-heal", GcsStore("gs://models-bucket/gke-heal", client)
    )
    assert registry.register({"kind": "a"}, {"n": 1}) == "v0001"
    assert registry.register({"kind": "b"}, {"n": 2}) == "v0002"
    objects = client.buckets["models-bucket"].objects
    assert "gke-heal/versions/v0002/model.json" in objects
    assert objects["gke-heal/LATEST"] == b"v0002"
    assert registry.versions() == ["v0001", "v0002"]
    assert registry.load("latest").model == {"kind": "b"}
    with pytest.raises(RegistryError, match="does not exist"):
        registry.load("v0003")


def test_bad_gcs_uri() -> None:
    with pytest.raises(ValueError, match="bucket"):
        GcsStore("gs:///nothing", FakeClient())
