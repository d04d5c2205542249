"""A labelled log sample from realistic templates (BGL-style labels: `-` is normal).

Normal traffic mixes web-service, kubelet and database lines with variable fields; incidents
are short bursts of error lines, some from templates never seen before (a new failure mode)
and some from known but rare templates turning frequent. Each row carries its true template
id, so the sample also measures parser grouping accuracy. Deterministic for a seed.
"""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass
from pathlib import Path

NORMAL = (
    ("GET /api/v1/cart/{n} 200 {ms}ms", 30),
    ("POST /api/v1/checkout 201 {ms}ms user={u}", 10),
    ("GET /healthz 200 {ms}ms", 25),
    ("cache hit ratio {f} for shard {n}", 6),
    ("connection pool size {n} idle {n}", 6),
    ("Successfully pulled image registry.local/shop/cart:v{n} in {ms}ms", 1),
    ("Started container cart in pod cart-{h}", 1),
    ("flushed {n} rows to table orders in {ms}ms", 8),
    ("session {h} refreshed for user {u}", 8),
    ("WARN slow query on table orders took {ms}ms", 2),
    ("retrying request to payments attempt {n} of 3", 1),
)
INCIDENTS = (
    ("ERROR connection refused to {ip} database unavailable", "DBDOWN"),
    ("ERROR payment gateway timeout after {ms}ms order {n}", "PAYTIMEOUT"),
    ("FATAL out of memory allocating {n} bytes in worker {n}", "OOM"),
    ("ERROR NullPointerException in CheckoutHandler line {n}", "NPE"),
    ("retrying request to payments attempt {n} of 3", "RETRYSTORM"),
    ("WARN slow query on table orders took {ms}ms", "SLOWDB"),
)


@dataclass(frozen=True)
class LogLine:
    label: str
    content: str
    template_id: str


def _fill(template: str, rng: random.Random) -> str:
    out = template
    while "{" in out:
        start = out.index("{")
        end = out.index("}", start)
        kind = out[start + 1 : end]
        value = {
            "n": lambda: str(rng.randint(1, 5000)),
            "ms": lambda: str(rng.randint(2, 900)),
            "f": lambda: f"{rng.random():.2f}",
            "u": lambda: f"u{rng.randint(100, 999)}",
            "h": lambda: f"{rng.getrandbits(32):08x}",
            "ip": lambda: f"10.0.{rng.randint(0, 255)}.{rng.randint(1, 254)}",
        }[kind]()
        out = out[:start] + value + out[end + 1 :]
    return out


def generate(lines: int = 6000, incidents: int = 12, seed: int = 7) -> list[LogLine]:
    """`lines` lines of normal traffic with `incidents` labelled bursts after the first fifth."""
    rng = random.Random(seed)
    templates = [t for t, _ in NORMAL]
    weights = [w for _, w in NORMAL]
    ids = {t: f"T{i + 1}" for i, t in enumerate(templates)}
    for i, (t, _) in enumerate(INCIDENTS):
        ids.setdefault(t, f"E{i + 1}")
    starts = sorted(rng.sample(range(lines // 5, lines - 50), incidents))
    bursts = {s: INCIDENTS[k % len(INCIDENTS)] for k, s in enumerate(starts)}
    out: list[LogLine] = []
    i = 0
    while len(out) < lines:
        if i in bursts:
            template, label = bursts[i]
            for _ in range(rng.randint(4, 12)):
                out.append(LogLine(label, _fill(template, rng), ids[template]))
        t = rng.choices(templates, weights)[0]
        out.append(LogLine("-", _fill(t, rng), ids[t]))
        i += 1
    return out[:lines]


def write_csv(path: Path, rows: list[LogLine]) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["LineId", "Label", "Content", "EventId"])
        for n, row in enumerate(rows, start=1):
            writer.writerow([n, row.label, row.content, row.template_id])
    return path


if __name__ == "__main__":
    import sys

    write_csv(Path(sys.argv[1]), generate())
