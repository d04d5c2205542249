"""The artefact store on Cloud Storage: the registry's `gs://bucket/prefix` backend."""

from __future__ import annotations

from typing import Any


class GcsStore:
    """Bytes under `gs://bucket/prefix/`, through google-cloud-storage."""

    def __init__(self, uri: str, client: Any = None) -> None:
        if not uri.startswith("gs://"):
            raise ValueError(f"registry: {uri!r} is not a gs:// URI")
        bucket, _, prefix = uri.removeprefix("gs://").partition("/")
        if not bucket:
            raise ValueError(f"registry: {uri!r} names no bucket")
        self.bucket_name = bucket
        self.prefix = prefix.strip("/")
        self._client = client

    def _bucket(self) -> Any:
        if self._client is None:
            from google.cloud import storage  # type: ignore[attr-defined]

            self._client = storage.Client()
        return self._client.bucket(self.bucket_name)

    def _key(self, path: str) -> str:
        return f"{self.prefix}/{path}" if self.prefix else path

    def read(self, path: str) -> bytes:
        from anomaly_detection_model.registry import RegistryError

        blob = self._bucket().blob(self._key(path))
        if not blob.exists():
            raise RegistryError(f"gs://{self.bucket_name}/{self._key(path)} does not exist")
        data: bytes = blob.download_as_bytes()
        return data

    def write(self, path: str, data: bytes) -> None:
        self._bucket().blob(self._key(path)).upload_from_string(data)

    def list(self, prefix: str) -> list[str]:
        base = self._key(prefix).rstrip("/") + "/"
        names: set[str] = set()
        for blob in self._bucket().list_blobs(prefix=base):
            rest = str(blob.name)[len(base) :]
            if rest:
                names.add(rest.split("/", 1)[0])
        return sorted(names)
