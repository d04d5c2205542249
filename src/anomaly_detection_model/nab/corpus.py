"""Load a NAB-layout corpus: `<data>/<category>/<file>.csv` plus a windows labels file.

Any category folder is accepted (not only the ones shipped here). Timestamps are parsed
from the formats NAB uses (`2014-02-14 14:30:00`, with fractional seconds, or ISO 8601
with `T`); label windows are matched to rows by time, not by string equality.
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
import numpy.typing as npt


class CorpusError(ValueError):
    """The corpus or its labels cannot be read; the message names the file and field."""


@dataclass(frozen=True)
class NabFile:
    """One labelled series: rows in time order and its anomaly windows as row indices."""

    category: str
    name: str
    timestamps: list[str]
    values: npt.NDArray[np.float64]
    windows: list[tuple[int, int]] = field(default_factory=list)

    @property
    def key(self) -> str:
        """The labels-file key, `<category>/<file>.csv`."""
        return f"{self.category}/{self.name}"

    def __len__(self) -> int:
        return len(self.timestamps)

    def seconds(self) -> npt.NDArray[np.float64]:
        """Each row's time in seconds since the Unix epoch (what a detector reading times gets)."""
        return row_seconds(self.timestamps, self.key)


def parse_timestamp(text: str) -> datetime:
    """Parse a NAB timestamp; raises ValueError naming the text when it is not one."""
    cleaned = text.strip().replace("T", " ").removesuffix("Z")
    for fmt in ("%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"):
        try:
            return datetime.strptime(cleaned, fmt)
        except ValueError:
            continue
    try:
        return datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"not a timestamp: {text!r}") from None


def row_seconds(timestamps: list[str], source: str) -> npt.NDArray[np.float64]:
    """Timestamps as seconds since the Unix epoch; CorpusError naming `source` if one is bad."""
    try:
        times = np.array([parse_timestamp(t) for t in timestamps], dtype="datetime64[us]")
    except ValueError as exc:
        raise CorpusError(f"{source}: field 'timestamp': {exc}") from None
    return times.astype(np.int64).astype(np.float64) / 1e6


def _parse_value(text: str) -> float:
    text = text.strip()
    if text == "" or text.lower() in ("nan", "null", "none"):
        return math.nan
    return float(text)


def read_series(path: Path) -> tuple[list[str], npt.NDArray[np.float64]]:
    """Read a `timestamp,value` CSV: timestamps as written, values as floats (NaN if blank)."""
    timestamps: list[str] = []
    values: list[float] = []
    with path.open(newline="") as handle:
        reader = csv.DictReader(handle)
        fields = reader.fieldnames or []
        for column in ("timestamp", "value"):
            if column not in fields:
                raise CorpusError(f"{path}: missing column {column!r} (found {fields})")
        for line, row in enumerate(reader, start=2):
            try:
                values.append(_parse_value(row["value"] or ""))
            except ValueError:
                raise CorpusError(
                    f"{path}:{line}: field 'value' is not a number: {row['value']!r}"
                ) from None
            timestamps.append(row["timestamp"] or "")
    return timestamps, np.asarray(values, dtype=np.float64)


def window_rows(
    timestamps: list[str], windows: list[list[str]], source: str
) -> list[tuple[int, int]]:
    """Map `[start, end]` time windows to inclusive row ranges (first row >= start, last <= end)."""
    try:
        times = np.array([parse_timestamp(t) for t in timestamps], dtype="datetime64[us]")
    except ValueError as exc:
        raise CorpusError(f"{source}: field 'timestamp': {exc}") from None
    rows: list[tuple[int, int]] = []
    for window in windows:
        if len(window) != 2:
            raise CorpusError(f"{source}: a window must be [start, end], got {window!r}")
        try:
            start, end = (np.datetime64(parse_timestamp(w), "us") for w in window)
        except (ValueError, TypeError, AttributeError) as exc:
            raise CorpusError(f"{source}: window {window!r}: {exc}") from None
        first = int(np.searchsorted(times, start, side="left"))
        last = int(np.searchsorted(times, end, side="right")) - 1
        if first <= last:
            rows.append((first, last))
    return sorted(rows)


def load_labels(path: Path) -> dict[str, list[list[str]]]:
    """Read a NAB windows file: `{"<category>/<file>.csv": [[start, end], ...]}`."""
    try:
        raw = json.loads(path.read_text())
    except FileNotFoundError:
        raise CorpusError(f"labels file not found: {path}") from None
    except json.JSONDecodeError as exc:
        raise CorpusError(f"{path}: not valid JSON: {exc}") from None
    if not isinstance(raw, dict):
        raise CorpusError(f"{path}: expected an object mapping file keys to windows")
    labels: dict[str, list[list[str]]] = {}
    for key, windows in raw.items():
        if not isinstance(windows, list):
            raise CorpusError(f"{path}: {key!r}: windows must be a list of [start, end]")
        labels[str(key).replace("\\", "/")] = [list(map(str, w)) for w in windows]
    return labels


def load_corpus(data_dir: Path, labels_path: Path) -> list[NabFile]:
    """Every `<category>/<file>.csv` under `data_dir` that the labels file knows, in name order.

    Files without a labels entry are an error: NAB scores every file, and a silent skip
    would change the corpus being compared.
    """
    if not data_dir.is_dir():
        raise CorpusError(f"data folder not found: {data_dir}")
    labels = load_labels(labels_path)
    files: list[NabFile] = []
    for path in sorted(data_dir.glob("*/*.csv")):
        key = f"{path.parent.name}/{path.name}"
        if key not in labels:
            raise CorpusError(f"{labels_path}: no windows for {key} (add an empty list if none)")
        timestamps, values = read_series(path)
        windows = window_rows(timestamps, labels[key], key)
        files.append(NabFile(path.parent.name, path.name, timestamps, values, windows))
    if not files:
        raise CorpusError(f"{data_dir}: no <category>/<file>.csv files found")
    return files
