"""ChatOps settings, read once from the environment (prefix `CHATOPS_`); secrets are SecretStr."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

# Read-only words anybody in the channel may use unless the permissions say otherwise.
READ_ONLY_COMMANDS = ["help", "status", "incidents", "show", "history"]


class ChatOpsSettings(BaseSettings):
    """Everything the ChatOps service reads at start-up."""

    model_config = SettingsConfigDict(env_prefix="CHATOPS_", extra="ignore")

    # --- the self-healing service (docs/contracts.md §7)
    healing_url: str = Field(
        "http://127.0.0.1:8080", description="Base URL of the self-healing service API."
    )
    healing_token: SecretStr | None = Field(
        None, description="Bearer token for the healing API (local shared token)."
    )
    healing_iam: bool = Field(
        False,
        description=(
            "The healing service sits behind Cloud Run IAM: also send a Google ID token of our "
            "service account (audience = healing_url) in X-Serverless-Authorization."
        ),
    )
    healing_timeout_seconds: float = Field(
        10.0, gt=0, description="Timeout of one call to the healing API."
    )

    # --- inbound /notify authentication
    auth: Literal["token", "oidc", "none"] = Field(
        "token",
        description="How POST /notify is authenticated: shared bearer token, Google OIDC, or none.",
    )
    notify_token: SecretStr | None = Field(
        None, description="Shared bearer token expected on POST /notify when auth=token."
    )
    notify_audience: str = Field("", description="Expected OIDC audience (this service's URL).")
    notify_service_account: str = Field(
        "", description="Service account e-mail the OIDC token must carry (the healing service)."
    )
    notify_certs_url: str = Field(
        "https://www.googleapis.com/oauth2/v1/certs",
        description="Where Google's token-signing certificates are fetched (a local server in tests).",
    )

    # --- Slack
    slack_bot_token: SecretStr | None = Field(
        None, description="Bot token (xoxb-...) for chat.postMessage, chat.update, file upload."
    )
    slack_signing_secret: SecretStr | None = Field(
        None, description="Signing secret that verifies slash commands and button clicks."
    )
    slack_webhook_url: SecretStr | None = Field(
        None, description="Incoming webhook URL, used when no bot token is configured."
    )
    slack_channel: str = Field("", description="Channel ID the bot posts incidents to.")
    slack_api_url: str = Field(
        "https://slack.com/api/", description="Slack Web API base URL (the local sink in tests)."
    )
    slack_charts: bool = Field(True, description="Upload a PNG chart of the signal (bot only).")

    # --- Teams
    teams_webhook_url: SecretStr | None = Field(
        None, description="Teams Workflows 'When a Teams webhook request is received' URL."
    )
    teams_hmac_secret: SecretStr | None = Field(
        None, description="Security token of the Teams outgoing webhook (base64, as Teams shows)."
    )

    # --- links shown in messages
    public_url: str = Field(
        "",
        description=(
            "Base URL of the self-healing service's web view (it serves /incidents/ID); used "
            "for 'full text' links when a notification carries no incident link."
        ),
    )
    dashboard_url: str = Field("", description="Dashboard link shown when a notification has none.")

    # --- local state
    db_path: Path = Field(
        Path("chatops.sqlite3"), description="SQLite file for threads, outbox, dedupe."
    )

    # --- delivery
    delivery_attempts: int = Field(8, ge=1, le=50, description="Attempts per message.")
    delivery_backoff_seconds: float = Field(
        0.5, ge=0, description="First retry delay; doubles each attempt."
    )
    delivery_backoff_max_seconds: float = Field(
        30.0, ge=0, description="Longest wait between attempts (Retry-After is capped by it)."
    )
    delivery_timeout_seconds: float = Field(
        10.0, gt=0, description="Timeout of one HTTP call to Slack or Teams."
    )
    sequence_gap_wait_seconds: float = Field(
        20.0,
        ge=0,
        description="How long a later event waits for a missing earlier one of the same incident.",
    )

    # --- storms
    storm_threshold: int = Field(
        5, ge=2, description="Incidents opened within the window that make a storm."
    )
    storm_window_seconds: float = Field(
        300.0, gt=0, description="Window in which opened incidents are counted."
    )

    # --- authorisation
    permissions: dict[str, list[str]] = Field(
        default_factory=lambda: {"*": list(READ_ONLY_COMMANDS)},
        description=(
            "Who may run which commands: key is a user (`slack:U123`, `teams:<aad id>`), "
            "a group (`group:oncall`) or `*`; value is a list of command words or `*`."
        ),
    )
    groups: dict[str, list[str]] = Field(
        default_factory=dict, description="Groups: name -> members (`slack:U123`, ...)."
    )
