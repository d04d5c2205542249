"""The fault kinds of contract §9, one stage each; adding a fault is adding one entry here.

Remedies are modelled honestly:
- `memory_leak` is in the code: a restart starts again from low memory and leaks again, so
  `rollout restart` relieves it for a while; removing the annotation (the fix shipped) stops it.
- `cpu_saturation` is a traffic surge spread over the ready replicas: scaling out brings each
  pod back under its limit, so latency recovers.
- `bad_rollout` and `unschedulable` roll out a new revision (a bad image, impossible requests);
  `rollout undo` fixes them, and so does removing the annotation (the cluster rolls back).
- `crash_loop` has three causes (param `cause`): `dependency` (default), a database the
  service cannot reach at start, lasts while the annotation is present and nothing in the
  cluster fixes it (the logs say so: `connection refused`); `bug`, a defect on a code path
  the traffic takes (a nil dereference), lasts likewise, but its logs name no cause a restart
  could not clear; `rollout`, a new revision whose configuration makes the process exit
  (image tag `-crashing`), is fixed by `rollout undo`, as most crash loops after a deploy are.
- `error_burst`, `dependency_latency` last while the annotation is present.
- `node_not_ready` stops the node's kubelet heartbeat until the annotation is removed.
"""

from __future__ import annotations

from local_cloud.gke.faults.stage import NEUTRAL, Effect, FaultStage, LogTemplate, Obj, Params

BAD_IMAGE_SUFFIX = "-bad"
CRASHING_IMAGE_SUFFIX = "-crashing"
CRASH_CAUSES = ("dependency", "bug", "rollout")


def _memory_leak(params: Params) -> Effect:
    return Effect(
        leak_seconds_to_limit=float(params["minutes_to_oom"]) * 60.0,
        leak_bytes_per_second=float(params["bytes_per_second"]),
        logs=(
            LogTemplate("WARNING", "GC overhead high: heap {pct}% used after full collection"),
            LogTemplate("WARNING", "cache size {n} entries exceeds soft limit, eviction lagging"),
        ),
        log_lines_per_minute=3.0,
    )


def _cpu_saturation(params: Params) -> Effect:
    return Effect(
        traffic_factor=float(params["traffic_factor"]),
        logs=(
            LogTemplate("WARNING", "request queue length {n} above threshold, shedding load"),
            LogTemplate("WARNING", "slow request {path} took {ms}ms"),
        ),
        log_lines_per_minute=6.0,
    )


def _crash_cause(params: Params) -> str:
    cause = str(params.get("cause", "dependency"))
    return cause if cause in CRASH_CAUSES else "dependency"


def _crash_loop(params: Params) -> Effect:
    cause = _crash_cause(params)
    if cause == "rollout":
        return NEUTRAL  # the new revision's image carries the crash (CRASHING_IMAGE_EFFECT)
    if cause == "bug":
        return Effect(
            exit_after_seconds=float(params["after_seconds"]),
            exit_logs=(
                LogTemplate(
                    "CRITICAL",
                    "panic: runtime error: invalid memory address or nil pointer dereference",
                ),
                LogTemplate("ERROR", "goroutine {n} [running]:"),
                LogTemplate("ERROR", "main.(*Handler).ServeHTTP(...) /app/handler.go:{n}"),
            ),
        )
    return Effect(
        exit_after_seconds=float(params["after_seconds"]),
        exit_logs=(
            LogTemplate("ERROR", "Traceback (most recent call last):"),
            LogTemplate("ERROR", '  File "/app/main.py", line {n}, in <module>'),
            LogTemplate(
                "CRITICAL", "FATAL: cannot connect to database at {dep}: connection refused"
            ),
        ),
    )


def _error_burst(params: Params) -> Effect:
    return Effect(
        error_rate=float(params["error_rate"]),
        logs=(
            LogTemplate("ERROR", "request failed: {path} status={status} error=internal"),
            LogTemplate("ERROR", "unhandled exception in handler {path}: KeyError('{id}')"),
        ),
        log_lines_per_minute=float(params["log_lines_per_minute"]),
    )


def _dependency_latency(params: Params) -> Effect:
    return Effect(
        latency_add_ms=float(params["added_ms"]),
        error_rate=float(params["timeout_rate"]),
        logs=(
            LogTemplate("WARNING", "upstream {dep} slow: call took {ms}ms"),
            LogTemplate("ERROR", "upstream request timeout calling {dep} after {ms}ms"),
        ),
        log_lines_per_minute=12.0,
    )


BAD_IMAGE_EFFECT = Effect(
    error_rate=0.6,
    readiness_fails=True,
    logs=(
        LogTemplate(
            "ERROR", "failed to load feature flags: schema version mismatch (want 7, got 6)"
        ),
        LogTemplate("ERROR", "request failed: {path} status=500 error=nil pointer dereference"),
        LogTemplate("WARNING", "health check /healthz/ready failing: dependency init incomplete"),
    ),
    log_lines_per_minute=30.0,
)


CRASHING_IMAGE_EFFECT = Effect(
    exit_after_seconds=4.0,
    exit_logs=(
        LogTemplate("ERROR", 'config: invalid value for CART_CACHE_TTL: "{id}" is not a duration'),
        LogTemplate("CRITICAL", "FATAL: configuration invalid, exiting"),
    ),
)


def _crashing_config(template: Obj, params: Params) -> None:
    """The `rollout` cause: a new revision whose configuration makes the process exit."""
    if _crash_cause(params) != "rollout":
        return
    for container in template.get("spec", {}).get("containers") or []:
        image = str(container.get("image", ""))
        if not is_broken_image(image):
            base = image if ":" in image else image + ":latest"
            container["image"] = base + CRASHING_IMAGE_SUFFIX


def _bad_image(template: Obj, params: Params) -> None:
    for container in template.get("spec", {}).get("containers") or []:
        image = str(container.get("image", ""))
        if not is_broken_image(image):
            container["image"] = image + BAD_IMAGE_SUFFIX if ":" in image else image + ":latest-bad"


def _impossible_requests(template: Obj, params: Params) -> None:
    containers = template.get("spec", {}).get("containers") or []
    if containers:
        resources = containers[0].setdefault("resources", {})
        resources.setdefault("requests", {})["memory"] = str(params["memory"])
        resources.setdefault("limits", {})["memory"] = str(params["memory"])


def is_bad_image(image: str) -> bool:
    """Images tagged `...-bad` run the broken build of their service."""
    return image.rsplit("/", 1)[-1].endswith(BAD_IMAGE_SUFFIX)


def is_crashing_image(image: str) -> bool:
    """Images tagged `...-crashing` carry a configuration the process cannot start with."""
    return image.rsplit("/", 1)[-1].endswith(CRASHING_IMAGE_SUFFIX)


def is_broken_image(image: str) -> bool:
    return is_bad_image(image) or is_crashing_image(image)


CATALOGUE: tuple[FaultStage, ...] = (
    FaultStage(
        "memory_leak", "Deployment",
        "memory grows from each container start until it passes the limit: OOMKilled (137), restart, repeat",
        "rollout restart relieves it for a while; the fix (annotation removed) ends it",
        effect=_memory_leak,
        default_params={"minutes_to_oom": 8, "bytes_per_second": 1_048_576},
    ),
    FaultStage(
        "cpu_saturation", "Deployment",
        "a traffic surge pins CPU at the limit: throttling, latency and timeouts rise",
        "scale out until each pod is under its limit",
        effect=_cpu_saturation,
        default_params={"traffic_factor": 6.0},
    ),
    FaultStage(
        "crash_loop", "Deployment",
        "the container exits 1 shortly after start: CrashLoopBackOff with growing back-off",
        "cause=dependency or bug: remove the cause (annotation), restarts alone do not help; "
        "cause=rollout: rollout undo",
        effect=_crash_loop,
        template_change=_crashing_config,
        default_params={"after_seconds": 3, "cause": "dependency"},
        param_choices={"cause": CRASH_CAUSES},
    ),
    FaultStage(
        "bad_rollout", "Deployment",
        "a new revision (image tag -bad) logs errors and never passes readiness",
        "rollout undo",
        template_change=_bad_image,
    ),
    FaultStage(
        "error_burst", "Deployment",
        "the error rate and ERROR logs spike",
        "remove the cause (annotation)",
        effect=_error_burst,
        default_params={"error_rate": 0.35, "log_lines_per_minute": 60.0},
    ),
    FaultStage(
        "node_not_ready", "Node",
        "the kubelet stops posting status: NotReady, taints, pods evicted after 300 s",
        "drain and let pods move; the node recovers when the annotation is removed",
        stops_heartbeat=True,
    ),
    FaultStage(
        "unschedulable", "Deployment",
        "a new revision requests more memory than any node has: Pending, FailedScheduling",
        "rollout undo",
        template_change=_impossible_requests,
        default_params={"memory": "512Gi"},
    ),
    FaultStage(
        "dependency_latency", "Deployment",
        "a downstream dependency slows down: latency rises, some requests time out",
        "remove the cause (annotation)",
        effect=_dependency_latency,
        default_params={"added_ms": 1200.0, "timeout_rate": 0.03},
    ),
)  # fmt: skip

FAULTS: dict[str, FaultStage] = {stage.kind: stage for stage in CATALOGUE}
