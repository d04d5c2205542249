"""Log anomaly detectors over Drain templates: new and rare templates, and template-rate bursts.

`TemplateAnomaly` scores a line by three signals and takes the largest: a template never
seen (a new failure mode), a template seen only a few times (rare) weighted up when it
reads like an error, and a burst of a known template (its share of the last `window` lines
far above its long-run share). `NewTemplate` is the plain baseline: alarm on unseen templates.
Both learn only from the stream (prequential), with `warmup` lines of pure learning.
"""

from __future__ import annotations

import re
from collections import Counter, deque

from anomaly_detection_model.base import Detector
from anomaly_detection_model.logs.drain import Drain

ERROR_WORDS = re.compile(
    r"\b(error|err|fatal|fail(ed|ure)?|exception|panic|refused|timeout|killed|denied)\b", re.I
)


class NewTemplate(Detector[str | None]):
    """Baseline: 1 when the line's template has never been seen, else 0."""

    def __init__(self, warmup: int = 500, similarity: float = 0.4) -> None:
        self.warmup = warmup
        self.similarity = similarity
        self._drain = Drain(similarity=similarity)
        self._seen = 0

    def score_one(self, x: str | None) -> float:
        if self._seen < self.warmup:
            return 0.0
        return 1.0 if self._drain.match(x or "") is None else 0.0

    def learn_one(self, x: str | None) -> None:
        self._drain.add(x or "")
        self._seen += 1


class TemplateAnomaly(Detector[str | None]):
    """New, rare and bursting templates, with error-like templates weighted up."""

    def __init__(
        self,
        warmup: int = 500,
        similarity: float = 0.4,
        rare_count: int = 5,
        window: int = 200,
        burst_ratio: float = 8.0,
        burst_min: int = 4,
    ) -> None:
        self.warmup = warmup
        self.similarity = similarity
        self.rare_count = rare_count
        self.window = window
        self.burst_ratio = burst_ratio
        self.burst_min = burst_min
        self._drain = Drain(similarity=similarity)
        self._counts: Counter[int] = Counter()
        self._recent: deque[int] = deque(maxlen=window)
        self._recent_counts: Counter[int] = Counter()
        self._seen = 0

    def score_one(self, x: str | None) -> float:
        if self._seen < self.warmup:
            return 0.0
        x = x or ""  # a missing line reads as an empty one
        group = self._drain.match(x)
        errorish = bool(ERROR_WORDS.search(x))
        if group is None:
            return 1.0 if errorish else 0.75
        count = self._counts[group.group_id]
        rare = 0.0
        if count < self.rare_count:
            rare = (1.0 - count / self.rare_count) * (1.0 if errorish else 0.6)
        share_long = count / max(self._seen, 1)
        recent = self._recent_counts[group.group_id] + 1
        share_now = recent / max(len(self._recent) + 1, 1)
        burst = 0.0
        if recent >= self.burst_min and share_now >= self.burst_ratio * share_long:
            burst = min(share_now / (self.burst_ratio * max(share_long, 1e-9)), 2.0) / 2.0 + 0.5
            burst = min(burst, 1.0) if errorish or share_now > 0.2 else burst * 0.8
        return max(rare, burst)

    def learn_one(self, x: str | None) -> None:
        group = self._drain.add(x or "")
        self._counts[group.group_id] += 1
        if len(self._recent) == self._recent.maxlen:
            self._recent_counts[self._recent[0]] -= 1
        self._recent.append(group.group_id)
        self._recent_counts[group.group_id] += 1
        self._seen += 1
