"""A small PNG chart of the anomalous signal (matplotlib, headless Agg backend)."""

from __future__ import annotations

import base64
import io

import matplotlib

matplotlib.use("Agg")  # headless: no display in containers or CI

from matplotlib.figure import Figure

from chatops.notification import Signal


def signal_png(
    signal: Signal, width_in: float = 4.0, height_in: float = 1.6, dpi: int = 80
) -> bytes:
    """PNG bytes of the signal's points with its threshold; empty signals give an empty frame."""
    figure = Figure(figsize=(width_in, height_in), dpi=dpi)
    axes = figure.add_subplot()
    times = [t.timestamp() for t, _ in signal.points]
    values = [v for _, v in signal.points]
    axes.plot(times, values, color="#1f6feb", linewidth=1.4)
    if signal.threshold is not None:
        axes.axhline(signal.threshold, color="#d1242f", linestyle="--", linewidth=1.0)
    axes.set_title(signal.metric, fontsize=8)
    axes.tick_params(labelsize=6)
    axes.tick_params(axis="x", labelbottom=False)
    figure.tight_layout(pad=0.3)
    buffer = io.BytesIO()
    # No metadata: the same points give the same bytes (useful for dedupe and tests).
    figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


def data_uri(png: bytes) -> str:
    """The PNG as a data URI (Adaptive Card images accept them in Teams)."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")
