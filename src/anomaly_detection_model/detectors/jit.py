"""Compile the detectors' numeric kernels with numba when it is installed (the `bench` extra);
without it they run as plain Python, slower but the same."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

F = TypeVar("F", bound=Callable[..., Any])


def compile_kernel(function: F) -> F:
    try:
        import numba
    except ImportError:  # pragma: no cover - numba comes with the bench extra
        return function
    return cast(F, numba.njit(cache=True, nogil=True)(function))
