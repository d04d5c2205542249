"""The project's configuration file: one YAML document, typed and documented field by field.

`load_config` reads the file, applies ``GKE_HEAL__SECTION__FIELD`` environment overrides and
validates everything at once; any problem becomes a `ConfigError` whose message names the
field and the line it came from.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from gke_heal.yamlfile import YamlModelError, parse_mapping, validate
from self_healing_service.policy import known_actions
from self_healing_service.selector import parse_selector

Mode = Literal["observe", "recommend", "enforce"]
ENV_PREFIX = "GKE_HEAL__"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ClusterConfig(_Section):
    """Which Kubernetes API server the product watches and acts on."""

    kind: Literal["local", "gke"] = Field(
        "local", description="`local` runs the embedded simulator; `gke` uses a real cluster."
    )
    kubeconfig: Path | None = Field(
        None, description="Kubeconfig file for `gke`; the simulator writes its own for `local`."
    )
    context: str | None = Field(None, description="Kubeconfig context to use (default: current).")
    project_id: str = Field("local-project", description="Google Cloud project of the cluster.")
    location: str = Field("us-central1", description="Region or zone of the cluster.")
    cluster_name: str = Field("demo-cluster", description="Cluster name, as in metric labels.")
    seed: int = Field(7, description="Seed of the local simulator, for reproducible runs.")
    speed: float = Field(
        60.0, gt=0, description="Local virtual-clock speed: simulated seconds per wall second."
    )


class ScopeConfig(_Section):
    """Where the healing service may act at all."""

    namespaces: list[str] = Field(
        default_factory=list, description="Namespaces it may act in; empty means all but excluded."
    )
    exclude_namespaces: list[str] = Field(
        default_factory=lambda: ["kube-system", "kube-public", "gke-managed-system"],
        description="Namespaces it never touches.",
    )
    allow_kube_system: bool = Field(
        False, description="Allow actions in kube-system (strongly discouraged)."
    )
    label_selector: str = Field(
        "",
        description="Only workloads matching this equality-based label selector, e.g. "
        "`heal.gke.io/enabled=true`.",
    )

    @field_validator("label_selector")
    @classmethod
    def _selector(cls, value: str) -> str:
        parse_selector(value)  # its SelectorError (a ValueError) names the part at fault
        return value


class GuardrailConfig(_Section):
    """Limits every action must pass before it touches the cluster."""

    cooldown_seconds: int = Field(
        600, ge=0, description="Minimum time between two actions on the same target."
    )
    max_actions_per_target_per_hour: int = Field(3, ge=0, description="Per-target rate limit.")
    max_actions_per_hour: int = Field(20, ge=0, description="Cluster-wide rate limit.")
    max_unavailable_fraction: float = Field(
        0.34,
        gt=0,
        le=1,
        description="Largest share of a workload's pods under remediation at once.",
    )
    max_nodes_fraction: float = Field(
        0.34, gt=0, le=1, description="Largest share of a node pool cordoned or drained at once."
    )
    max_not_ready_fraction: float = Field(
        0.55,
        gt=0,
        le=1,
        description="Above this share of the cluster's nodes NotReady at once (and at least 3), "
        "no node is cordoned or drained: the control plane or network is failing, not the nodes.",
    )
    circuit_breaker_failures: int = Field(
        3, ge=1, description="Consecutive failed fixes after which automation stops."
    )
    approval_ttl_seconds: int = Field(
        3600, ge=60, description="How long an approval request stays valid."
    )
    require_approval_for: list[str] = Field(
        default_factory=lambda: ["rollout_undo", "drain", "cordon"],
        description="Actions that need a human's approval even in `enforce` mode.",
    )

    _known_actions = field_validator("require_approval_for")(known_actions)


class ModelConfig(_Section):
    """The anomaly detection model used for scoring."""

    registry: str = Field(
        ".gke-heal/models", description="Model registry: a local folder or a `gs://` URI."
    )
    version: str = Field("latest", description="Model version to score with, or `latest`.")
    window_seconds: int = Field(60, ge=10, description="Telemetry window the features cover.")
    critical_score: float = Field(
        0.9, gt=0, le=1, description="Anomaly score at which an issue counts as critical."
    )


class SlackConfig(_Section):
    """Slack delivery; leave empty to disable."""

    webhook_url: SecretStr | None = Field(None, description="Incoming-webhook URL (a secret).")
    bot_token: SecretStr | None = Field(None, description="Bot token `xoxb-...` for the Web API.")
    signing_secret: SecretStr | None = Field(None, description="Signing secret for slash commands.")
    channel: str = Field("#sre-alerts", description="Channel for notifications.")


class TeamsConfig(_Section):
    """Microsoft Teams delivery through a Workflows webhook; leave empty to disable."""

    workflow_url: SecretStr | None = Field(None, description="Workflows webhook URL (a secret).")
    outgoing_webhook_secret: SecretStr | None = Field(
        None, description="HMAC secret of the Teams outgoing webhook, base64 as Teams shows it."
    )


class ChatOpsConfig(_Section):
    """Where notifications go and who may command the system."""

    slack: SlackConfig = Field(default_factory=SlackConfig, description="Slack settings.")
    teams: TeamsConfig = Field(default_factory=TeamsConfig, description="Teams settings.")
    approvers: list[str] = Field(
        default_factory=list, description="Chat user ids allowed to approve, deny and change mode."
    )
    second_approver_for: list[str] = Field(
        default_factory=list, description="Actions that need two different approvers."
    )


class LocalConfig(_Section):
    """Ports and folders of the local stack (`gke-heal up`, `gke-heal demo`)."""

    data_dir: Path = Field(Path(".gke-heal"), description="Where local state and logs are kept.")
    host: str = Field("127.0.0.1", description="Address every local service binds to.")
    kubernetes_port: int = Field(
        0, ge=0, le=65535, description="Simulator API port (0 = any free)."
    )
    healing_port: int = Field(0, ge=0, le=65535, description="Self-healing service port.")
    chatops_port: int = Field(0, ge=0, le=65535, description="ChatOps service port.")
    chat_sink_port: int = Field(0, ge=0, le=65535, description="Local chat sink port.")
    dashboard_port: int = Field(0, ge=0, le=65535, description="Dashboard port.")


class GkeHealConfig(_Section):
    """The whole configuration file."""

    mode: Mode = Field(
        "observe", description="`observe` notifies only; `recommend` asks; `enforce` acts."
    )
    cluster: ClusterConfig = Field(default_factory=ClusterConfig, description="The cluster.")
    scope: ScopeConfig = Field(default_factory=ScopeConfig, description="Where it may act.")
    guardrails: GuardrailConfig = Field(
        default_factory=GuardrailConfig, description="Safety limits."
    )
    model: ModelConfig = Field(default_factory=ModelConfig, description="Anomaly model.")
    chatops: ChatOpsConfig = Field(default_factory=ChatOpsConfig, description="Chat settings.")
    local: LocalConfig = Field(default_factory=LocalConfig, description="Local stack.")


class ConfigError(YamlModelError):
    """A configuration file that cannot be used; the message names the field and line."""


def _apply_env(data: dict[str, Any], environ: Mapping[str, str]) -> dict[tuple[str, ...], str]:
    """Apply ``GKE_HEAL__A__B=value`` overrides (value parsed as YAML); return where each came from."""
    touched: dict[tuple[str, ...], str] = {}
    for name, raw in sorted(environ.items()):
        if not name.startswith(ENV_PREFIX):
            continue
        path = tuple(part.lower() for part in name[len(ENV_PREFIX) :].split("__") if part)
        if not path:
            continue
        node = data
        for part in path[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = {}
                node[part] = child
            node = child
        try:
            node[path[-1]] = yaml.safe_load(raw) if raw else raw
        except yaml.YAMLError:
            node[path[-1]] = raw
        touched[path] = f"environment {name}"
    return touched


def parse_config(
    text: str, source: str = "<config>", environ: Mapping[str, str] | None = None
) -> GkeHealConfig:
    """Validate YAML text (plus environment overrides) into a `GkeHealConfig`."""
    try:
        data = parse_mapping(text, source)
        overridden = _apply_env(data, os.environ if environ is None else environ)
        return validate(GkeHealConfig, data, text, source, overridden)
    except ConfigError:
        raise
    except YamlModelError as exc:
        raise ConfigError(str(exc)) from None


def load_config(path: Path, environ: Mapping[str, str] | None = None) -> GkeHealConfig:
    """Read and validate the configuration file at `path`."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    return parse_config(text, source=str(path), environ=environ)


def healing_overrides(config: GkeHealConfig) -> dict[str, Any]:
    """The self-healing service's settings that the file's scope and guardrails set."""
    scope, rails = config.scope, config.guardrails
    excluded = [
        ns
        for ns in scope.exclude_namespaces
        if not (scope.allow_kube_system and ns == "kube-system")
    ]
    return {
        "allowed_namespaces": list(scope.namespaces),
        "excluded_namespaces": excluded,
        "allow_kube_system": scope.allow_kube_system,
        "label_selector": scope.label_selector,
        "cooldown_seconds": float(rails.cooldown_seconds),
        "target_actions_per_hour": rails.max_actions_per_target_per_hour,
        "global_actions_per_hour": rails.max_actions_per_hour,
        "max_workload_share": rails.max_unavailable_fraction,
        "max_node_pool_share": rails.max_nodes_fraction,
        "max_not_ready_share": rails.max_not_ready_fraction,
        "breaker_failures": rails.circuit_breaker_failures,
        "approval_ttl_seconds": float(rails.approval_ttl_seconds),
        "approval_actions": list(rails.require_approval_for),
    }
