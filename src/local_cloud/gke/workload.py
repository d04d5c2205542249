"""Behaviour profiles of simulated containers: traffic, CPU, memory, latency, errors and logs.

A workload's traffic follows a daily and weekly cycle with noise and is shared by its ready
replicas, so scaling out really lowers each pod's load. CPU follows requests, is capped at the
limit (throttling), and latency climbs as a pod approaches and passes its limit. Everything
random draws from seeded generators, so a run is reproducible.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, replace

from local_cloud.gke.faults import (
    BAD_IMAGE_EFFECT,
    CRASHING_IMAGE_EFFECT,
    Effect,
    LogTemplate,
    is_bad_image,
    is_crashing_image,
)

PROFILE_ANNOTATION = "sim.gke-heal.io/profile"
MiB = 1024 * 1024

_HTTP_INFO = (
    LogTemplate("INFO", "GET {path} 200 {ms}ms user={user}", 6.0),
    LogTemplate("INFO", "POST {path} 201 {ms}ms", 2.0),
    LogTemplate("DEBUG", "cache hit ratio {pct}% over last {n} lookups", 1.0),
)
_HTTP_ERRORS = (
    LogTemplate("ERROR", "request failed: {path} status={status} error=upstream connect error"),
    LogTemplate("ERROR", "unhandled exception in handler {path}: TimeoutError after {ms}ms"),
)


@dataclass(frozen=True)
class Profile:
    """How one kind of container behaves at the weekly mean of its traffic."""

    name: str
    rps: float  # requests/s for the whole workload
    cpu_idle: float  # cores
    cpu_per_request: float  # core-seconds per request
    memory_base: int  # bytes
    memory_per_rps: int  # bytes per request/s of load (caches, buffers)
    latency_ms: float  # p95 at low load
    error_rate: float
    startup_seconds: float = 5.0
    structured: bool = True  # logs JSON lines (jsonPayload) or plain text
    log_every: float = 400.0  # one access-log line per this many requests (sampling)
    info: tuple[LogTemplate, ...] = _HTTP_INFO
    errors: tuple[LogTemplate, ...] = _HTTP_ERRORS
    dependencies: tuple[str, ...] = ()
    # CPU demand (as a multiple of the limit) at which the liveness probe's 1 s timeout is missed
    liveness_timeout_at: float = 3.0


def _p(
    name: str, rps: float, cpu_req: float, mem_mib: int, latency: float, **kw: object
) -> Profile:
    return Profile(
        name=name, rps=rps, cpu_idle=0.01, cpu_per_request=cpu_req,
        memory_base=mem_mib * MiB, memory_per_rps=kw.pop("mem_per_rps", 64 * 1024),  # type: ignore[arg-type]
        latency_ms=latency, error_rate=kw.pop("error_rate", 0.002), **kw,  # type: ignore[arg-type]
    )  # fmt: skip


# CPU per request is sized so that the demo's replicas run at about a third of their CPU limit
# at the weekly mean of their traffic (half at the daily peak).
PROFILES: dict[str, Profile] = {
    p.name: p
    for p in (
        _p("frontend", 90, 0.0058, 120, 85, dependencies=("cart", "catalogue", "recommendation")),
        _p("cart", 40, 0.0105, 140, 25, dependencies=("redis-cache",)),
        _p("checkout", 8, 0.044, 160, 180, dependencies=("payment", "shipping", "email")),
        _p("payment", 6, 0.035, 110, 220, dependencies=("bank-gateway",)),
        _p("catalogue", 70, 0.006, 180, 30, dependencies=("postgres",)),
        _p("recommendation", 30, 0.0117, 260, 60, dependencies=("catalogue",)),
        _p("search", 25, 0.014, 300, 70, dependencies=("catalogue",)),
        _p("shipping", 6, 0.023, 90, 45),
        _p("email", 3, 0.023, 80, 120, structured=False, dependencies=("smtp-relay",)),
        _p("ad", 35, 0.006, 100, 20),
        _p(
            "redis-cache",
            300,
            0.001,
            220,
            2,
            structured=False,
            log_every=20_000,
            mem_per_rps=256 * 1024,
            info=(
                LogTemplate("INFO", "* {n} changes in 60 seconds. Saving..."),
                LogTemplate("INFO", "* Background saving terminated with success"),
            ),
            errors=(
                LogTemplate("ERROR", "# Error accepting a client connection: Connection reset"),
            ),
        ),
        _p(
            "queue-worker",
            15,
            0.035,
            200,
            400,
            structured=False,
            log_every=30,
            info=(
                LogTemplate("INFO", "processed job id={id} type=order.confirm in {ms}ms"),
                LogTemplate("INFO", "queue depth {n}, workers busy {pct}%"),
            ),
            errors=(LogTemplate("ERROR", "job id={id} failed: {dep} returned 503, will retry"),),
            dependencies=("email", "shipping"),
        ),
        _p(
            "kube-dns",
            60,
            0.002,
            30,
            3,
            structured=False,
            log_every=50_000,
            info=(
                LogTemplate("INFO", "[INFO] plugin/reload: Running configuration SHA512 = {id}"),
            ),
            errors=(
                LogTemplate("ERROR", "[ERROR] plugin/errors: 2 {path}. A: read udp: i/o timeout"),
            ),
        ),
        _p("generic", 10, 0.004, 64, 50),
    )
}


def profile_for(image: str, container_name: str, annotations: dict[str, str]) -> Profile:
    """The profile named by annotation, else by the image's repository name, else the container."""
    named = annotations.get(PROFILE_ANNOTATION)
    if named in PROFILES:
        return PROFILES[named]
    repo = image.rsplit("/", 1)[-1].split(":", 1)[0].split("@", 1)[0]
    for candidate in (repo, container_name, repo.removesuffix("service").rstrip("-")):
        if candidate in PROFILES:
            return PROFILES[candidate]
    return PROFILES["generic"]


def image_effect(image: str) -> Effect | None:
    """A broken build (image tag `-bad`, `-crashing`) behaves badly whatever the annotations say."""
    if is_bad_image(image):
        return BAD_IMAGE_EFFECT
    return CRASHING_IMAGE_EFFECT if is_crashing_image(image) else None


def combine(a: Effect, b: Effect) -> Effect:
    """Two effects at once (a bad image during a dependency slowdown, say)."""
    if a == Effect():
        return b
    if b == Effect():
        return a
    return replace(
        a,
        traffic_factor=a.traffic_factor * b.traffic_factor,
        cpu_per_request_factor=a.cpu_per_request_factor * b.cpu_per_request_factor,
        latency_add_ms=a.latency_add_ms + b.latency_add_ms,
        error_rate=max(a.error_rate, b.error_rate),
        leak_seconds_to_limit=a.leak_seconds_to_limit or b.leak_seconds_to_limit,
        leak_bytes_per_second=a.leak_bytes_per_second or b.leak_bytes_per_second,
        exit_after_seconds=a.exit_after_seconds or b.exit_after_seconds,
        readiness_fails=a.readiness_fails or b.readiness_fails,
        logs=a.logs + b.logs,
        log_lines_per_minute=a.log_lines_per_minute + b.log_lines_per_minute,
        exit_logs=a.exit_logs + b.exit_logs,
    )


def seasonality(t: float) -> float:
    """Traffic multiplier at Unix time `t`: a daily wave peaking 15:00 UTC, quieter weekends."""
    hours = (t % 86_400) / 3600.0
    daily = 1.0 + 0.45 * math.sin(2 * math.pi * (hours - 9.0) / 24.0)
    weekday = int(t // 86_400 + 3) % 7  # 1970-01-01 was a Thursday; 5, 6 = Sat, Sun
    weekly = 0.7 if weekday >= 5 else 1.0
    return daily * weekly


@dataclass
class Sample:
    """One container's behaviour over the last sampling interval."""

    cpu_cores: float
    cpu_demand: float
    memory_bytes: int
    rps: float
    error_rate: float
    latency_p95_ms: float


def sample(
    profile: Profile,
    effect: Effect,
    *,
    load: float,
    share: float,
    cpu_limit: float | None,
    memory_leaked: float,
    rng: random.Random,
    upstream: tuple[float, float] = (0.0, 0.0),
) -> Sample:
    """Behaviour of one container given the cluster-wide `load`, its `share` of the traffic and
    what its dependencies add (`upstream`: extra error rate, extra latency in ms)."""
    noise = 1.0 + 0.06 * rng.gauss(0.0, 1.0)
    rps = max(0.0, profile.rps * load * effect.traffic_factor * share * noise)
    demand = profile.cpu_idle + profile.cpu_per_request * effect.cpu_per_request_factor * rps
    ceiling = cpu_limit if cpu_limit else max(demand, 1.0)
    cpu = min(demand, ceiling)
    rho = demand / ceiling
    if rho < 1.0:
        latency = profile.latency_ms * (1.0 + 0.6 * rho**4)
        overload_errors = 0.0
    else:  # queueing past the limit: throttled, requests wait and start timing out
        latency = profile.latency_ms * (1.6 + 12.0 * min(rho - 1.0, 4.0))
        overload_errors = min(0.25, 0.08 * (rho - 1.0))
    latency = latency * (1.0 + 0.05 * rng.gauss(0.0, 1.0)) + effect.latency_add_ms + upstream[1]
    error_rate = min(
        1.0, max(profile.error_rate, effect.error_rate) + overload_errors + upstream[0]
    )
    memory = profile.memory_base * (1.0 + 0.01 * rng.gauss(0.0, 1.0))
    memory += profile.memory_per_rps * rps + memory_leaked
    return Sample(cpu, demand, int(memory), rps, error_rate, max(0.5, latency))


def render(template: LogTemplate, profile: Profile, rng: random.Random) -> str:
    """A log line from a template, with plausible values in its placeholders."""
    paths = ("/", f"/product/{rng.randint(1, 999)}", "/cart", "/api/v1/items", "/checkout")
    values = {
        "path": rng.choice(paths),
        "ms": rng.randint(2, 90) * max(1, int(profile.latency_ms // 20)),
        "user": f"u{rng.randint(1000, 9999)}",
        "pct": rng.randint(40, 99),
        "n": rng.randint(1, 5000),
        "id": f"{rng.getrandbits(32):08x}",
        "status": rng.choice((500, 502, 503, 504)),
        "dep": rng.choice(profile.dependencies or ("postgres",)),
    }
    return template.text.format(**values)


def pick(templates: tuple[LogTemplate, ...], rng: random.Random) -> LogTemplate:
    if len(templates) == 1:
        return templates[0]
    total = sum(t.weight for t in templates)
    x = rng.random() * total
    for t in templates:
        x -= t.weight
        if x <= 0:
            return t
    return templates[-1]


def count(expected: float, rng: random.Random, cap: int) -> int:
    """An integer count with mean `expected` (floor plus a Bernoulli remainder), capped."""
    whole = int(expected)
    if rng.random() < expected - whole:
        whole += 1
    return min(cap, whole)
