"""The data-gap evidence of the streaming univariate detector: rows that did not arrive.

A metric series that normally arrives every step and suddenly skips one says something
the values cannot: the exporter, the collector or the thing being measured stalled. The
evidence is read from the row times, when the caller passes them (the detector's values
alone cannot show a gap). The sampling step is the shortest positive interval seen so
far; a row is late when its interval exceeds `GAP_FACTOR` steps (at least one row is
missing). A late row is evidence only while gaps have been rare in this series
(`GAP_RARITY`): where rows go missing all the time (road sensors, irregular feeds) a gap
is normal and says nothing.

All of it is a few numbers in one array, compiled with numba when it is installed, like
the kernel.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from anomaly_detection_model.detectors.jit import compile_kernel

# Slots of the clock array.
LAST = 0  # time of the previous row with a time, NaN before the first
STEP = 1  # the sampling step: the shortest positive interval seen so far
GAPS = 2  # late rows seen so far
CLOCK_SIZE = 3

# A row is late when at least one row is missing before it: more than 1.5 steps since the
# previous one (1.2 and 1.5 score alike on NAB; 2.5 misses the single missing rows).
GAP_FACTOR = 1.5
# A late row counts only while gaps have been rarer than one in a hundred rows, counting
# this one: 0.004 to 0.02 score alike on NAB; at 0.05 and above the gaps of feeds that
# often skip rows start to alarm.
GAP_RARITY = 0.01


def new_clock() -> npt.NDArray[np.float64]:
    """A clock that has seen no row time yet."""
    clock = np.zeros(CLOCK_SIZE, dtype=np.float64)
    clock[LAST] = math.nan
    clock[STEP] = math.inf
    return clock


def _gap_evidence(clock: npt.NDArray[np.float64], t: float, seen: int) -> float:
    """1 when the row at time `t` (the `seen`-th, 0-based) is a rare late row, else 0."""
    if math.isnan(t) or math.isnan(clock[LAST]):
        return 0.0
    if not t - clock[LAST] > GAP_FACTOR * clock[STEP]:
        return 0.0
    return 1.0 if (clock[GAPS] + 1.0) / (seen + 2.0) < GAP_RARITY else 0.0


def _learn_clock(clock: npt.NDArray[np.float64], t: float) -> None:
    """Learn the row time `t` (NaN: the row has no time, nothing to learn)."""
    if math.isnan(t):
        return
    if not math.isnan(clock[LAST]):
        interval = t - clock[LAST]
        if interval > 0.0:
            if interval > GAP_FACTOR * clock[STEP]:
                clock[GAPS] += 1.0
            clock[STEP] = min(clock[STEP], interval)
    clock[LAST] = t


gap_evidence = compile_kernel(_gap_evidence)
learn_clock = compile_kernel(_learn_clock)
