"""Typed settings of the self-healing service, read once at start-up from `HEAL_*` variables."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from self_healing_service.policy import known_actions
from self_healing_service.selector import parse_selector

Mode = Literal["observe", "recommend", "enforce"]


class Settings(BaseSettings):
    """Every field is documented; secrets are `SecretStr` and never logged."""

    model_config = SettingsConfigDict(env_prefix="HEAL_", extra="ignore")

    mode: Mode = Field("observe", description="Start-up mode; new installs observe only.")
    project_id: str = Field("local", description="Google Cloud project (labels and links).")
    cluster_name: str = Field("local-gke", description="Cluster name put in notifications.")
    cluster_location: str = Field("local", description="Cluster location (region or zone).")
    kubeconfig: Path | None = Field(
        None, description="Kubeconfig to use; unset means in-cluster or the default one."
    )
    store: Literal["sqlite", "firestore"] = Field("sqlite", description="Audit/claims store.")
    sqlite_path: Path = Field(Path("heal.sqlite3"), description="SQLite file (WAL mode).")
    firestore_database: str = Field("(default)", description="Firestore database id.")
    webhook_token: SecretStr | None = Field(
        None, description="Cloud Monitoring webhook token (`?auth_token=`) or Basic password."
    )
    webhook_user: str = Field("monitoring", description="User name expected with HTTP Basic.")
    alertmanager_token: SecretStr | None = Field(
        None, description="Bearer token Alertmanager sends (http_config.authorization)."
    )
    push_auth: Literal["oidc", "token", "none"] = Field(
        "oidc", description="Pub/Sub push auth: OIDC (cloud), shared token, or none (emulator)."
    )
    push_audience: str = Field("", description="Expected `aud` of the push OIDC token.")
    push_service_account: str = Field("", description="Expected `email` of the push token.")
    push_token: SecretStr | None = Field(None, description="Shared push token (push_auth=token).")
    oidc_certs_url: str = Field(
        "https://www.googleapis.com/oauth2/v1/certs", description="Google's token signing certs."
    )
    api_token: SecretStr | None = Field(None, description="Bearer token for /api/v1 (ChatOps).")
    chatops_url: str = Field("", description="ChatOps base URL; notifications go to /notify.")
    chatops_token: SecretStr | None = Field(None, description="Bearer token sent to ChatOps.")
    chatops_auth: Literal["token", "oidc"] = Field(
        "token",
        description="How we authenticate to ChatOps: chatops_token, or a Google ID token "
        "(audience = chatops_url) from the service account, as Cloud Run IAM requires.",
    )
    public_url: str = Field("http://127.0.0.1:8080", description="Base URL of links we send.")
    policy_file: Path | None = Field(None, description="YAML rules replacing the defaults.")
    allowed_namespaces: list[str] = Field(
        default_factory=list, description="Namespaces we may act in; empty means all but system."
    )
    allow_kube_system: bool = Field(False, description="Permit actions in kube-system.")
    excluded_namespaces: list[str] = Field(
        default_factory=list, description="Namespaces we never act in, whatever else allows."
    )
    label_selector: str = Field(
        "",
        description="Only act on workloads whose labels match this equality-based selector "
        "(`heal.gke.io/enabled=true`); empty means every workload in scope.",
    )
    approval_actions: list[str] = Field(
        default_factory=list,
        description="Actions that always wait for a human's approval, even in enforce mode "
        '(e.g. `["rollout_undo", "drain", "cordon"]`).',
    )
    cooldown_seconds: float = Field(600.0, description="Quiet time per target after an action.")
    target_actions_per_hour: int = Field(3, description="Rate limit per target.")
    global_actions_per_hour: int = Field(20, description="Rate limit for the whole cluster.")
    max_workload_share: float = Field(0.34, description="Max share of a workload's pods at once.")
    max_node_pool_share: float = Field(0.34, description="Max share of a pool's nodes at once.")
    max_not_ready_share: float = Field(
        0.55,
        description="Above this share of the cluster's nodes NotReady at once (and at least 3), "
        "node actions go to a human: the control plane or network is failing, not the nodes.",
    )
    breaker_failures: int = Field(3, description="Failed fixes in a row that stop automation.")
    approval_ttl_seconds: float = Field(1800.0, description="Approvals expire after this.")
    recent_rollout_seconds: float = Field(900.0, description="A rollout this young is 'recent'.")
    max_scale_replicas: int = Field(10, description="Upper bound for scale-up.")
    verify_timeout_seconds: float = Field(120.0, description="How long verification watches.")
    verify_rollout_timeout_seconds: float = Field(
        600.0,
        description="How long verification waits for a rollout that is still progressing "
        "(Kubernetes' default progressDeadlineSeconds).",
    )
    verify_interval_seconds: float = Field(2.0, description="Verification poll interval.")
    verify_stable_seconds: float = Field(6.0, description="Healthy this long means recovered.")
    verify_settled_seconds: float = Field(
        20.0,
        description="A fix fully landed (every pod ready and measured) with the signal still "
        "bad this long has failed: the next rung starts without waiting out the timeout.",
    )
    drain_deadline_seconds: float = Field(120.0, description="Give up draining after this.")
    kube_retries: int = Field(4, description="Attempts per Kubernetes call on 5xx/timeout/409.")
    kube_backoff_seconds: float = Field(0.2, description="First back-off; doubles each retry.")
    kube_timeout_seconds: float = Field(5.0, description="Per-request timeout to the API server.")
    lease_seconds: float = Field(60.0, description="How long one replica owns an incident.")
    workers: int = Field(4, description="Threads processing incidents.")
    sweep_interval_seconds: float = Field(2.0, description="How often to pick up stale work.")
    outbox_interval_seconds: float = Field(1.0, description="Outbox delivery poll interval.")
    outbox_backoff_seconds: float = Field(2.0, description="First delivery retry delay.")
    outbox_max_backoff_seconds: float = Field(60.0, description="Longest delivery retry delay.")
    max_body_bytes: int = Field(256 * 1024, description="Larger request bodies get 413.")
    log_level: str = Field("INFO", description="Root log level.")

    @field_validator("label_selector")
    @classmethod
    def _selector(cls, value: str) -> str:
        parse_selector(value)  # a SelectorError (a ValueError) names the part at fault
        return value

    _actions = field_validator("approval_actions")(known_actions)
