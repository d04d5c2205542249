"""Keeps secrets out of third-party logs: httpx logs every request URL at INFO, and a Teams
Workflows URL (signed with `sig=`) or a Slack webhook URL is itself a secret."""

from __future__ import annotations

import logging
import threading

# Loggers of the HTTP libraries that may print a URL we were given as a secret.
HTTP_LOGGERS = ("httpx", "httpcore", "urllib3", "slack_sdk")


class SecretRedaction(logging.Filter):
    """Replaces every registered secret in a record's message with `***`."""

    def __init__(self) -> None:
        super().__init__()
        self._secrets: set[str] = set()
        self._lock = threading.Lock()

    def add(self, secret: str) -> None:
        if len(secret) >= 8:  # short values would redact ordinary words
            with self._lock:
                self._secrets.add(secret)

    def filter(self, record: logging.LogRecord) -> bool:
        with self._lock:
            secrets = list(self._secrets)
        if not secrets:
            return True
        message = record.getMessage()
        redacted = message
        for secret in secrets:
            redacted = redacted.replace(secret, "***")
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True


REDACTION = SecretRedaction()
for _name in HTTP_LOGGERS:
    logging.getLogger(_name).addFilter(REDACTION)


def redact(secret: str) -> None:
    """Never let `secret` reach the logs of the HTTP libraries."""
    REDACTION.add(secret)
