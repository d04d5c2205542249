"""A small PNG chart of the anomalous signal (matplotlib, headless Agg backend)."""

from __future__ import annotations

import base64
import io

import matplotlib

matplotlib.use("Agg")  # headless: no display in containers or CI

from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from chatops.notification import Signal


def signal_png(
    signal: Signal, width_in: float = 4.0, height_in: float = 1.6, dpi: int = 80
) -> bytes:
    """PNG bytes of the signal's points with its threshold; empty signals give an empty frame."""
    figure = Figure(figsize=(width_in, height_in), dpi=dpi)
    # Fixed margins instead of tight_layout, and no x tick labels: laying out ticks is most
    # of matplotlib's time, and the chart must not hold up a request for long.
    figure.subplots_adjust(left=0.12, right=0.98, top=0.86, bottom=0.06)
    axes = figure.add_subplot()
    start = signal.points[0][0] if signal.points else None
    minutes = [(t - start).total_seconds() / 60 for t, _ in signal.points] if start else []
    values = [v for _, v in signal.points]
    axes.plot(minutes, values, color="#1f6feb", linewidth=1.4)
    if signal.threshold is not None:
        axes.axhline(signal.threshold, color="#d1242f", linestyle="--", linewidth=1.0)
    axes.set_title(signal.metric, fontsize=8)
    axes.set_xticks([])
    axes.yaxis.set_major_locator(MaxNLocator(3))
    axes.tick_params(labelsize=6)
    buffer = io.BytesIO()
    # No metadata: the same points give the same bytes (useful for dedupe and tests).
    figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


def data_uri(png: bytes) -> str:
    """The PNG as a data URI (Adaptive Card images accept them in Teams)."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")
