"""Kubernetes resource quantities (`250m`, `512Mi`, `1.5G`) as numbers, and back."""

from __future__ import annotations

_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {"n": 1e-9, "u": 1e-6, "m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15}


def parse_quantity(value: object) -> float:
    """The number a quantity stands for (`"250m"` -> 0.25, `"1Gi"` -> 1073741824.0)."""
    if isinstance(value, int | float):
        return float(value)
    text = str(value).strip()
    if not text:
        raise ValueError("empty quantity")
    for suffix, factor in _BINARY.items():
        if text.endswith(suffix):
            return float(text[: -len(suffix)]) * factor
    if text[-1] in _DECIMAL:
        return float(text[:-1]) * _DECIMAL[text[-1]]
    return float(text)


def cpu_cores(value: object, default: float = 0.0) -> float:
    """CPU quantity in cores; `default` when absent or malformed."""
    if value is None:
        return default
    try:
        return parse_quantity(value)
    except ValueError:
        return default


def memory_bytes(value: object, default: int = 0) -> int:
    """Memory quantity in bytes; `default` when absent or malformed."""
    if value is None:
        return default
    try:
        return int(parse_quantity(value))
    except ValueError:
        return default


def format_cpu(cores: float) -> str:
    """Cores as the metrics API shows them: nanocores (`12345678n`)."""
    return f"{max(0, round(cores * 1e9))}n"


def format_memory(num_bytes: float) -> str:
    """Bytes as the metrics API shows them: kibibytes (`123456Ki`)."""
    return f"{max(0, round(num_bytes / 1024))}Ki"
