"""Platform limits (Slack Block Kit, Teams Adaptive Cards via Workflows) and truncation that
keeps a message within them by cutting text and pointing to the full version, never failing."""

from __future__ import annotations

# Slack Block Kit (docs.slack.dev/reference/block-kit): per message and per element.
SLACK_MAX_BLOCKS = 50
SLACK_HEADER_TEXT = 150
SLACK_SECTION_TEXT = 3000
SLACK_SECTION_FIELDS = 10
SLACK_FIELD_TEXT = 2000
SLACK_CONTEXT_ELEMENTS = 10
SLACK_CONTEXT_TEXT = 3000
SLACK_ACTIONS_ELEMENTS = 25
SLACK_BUTTON_TEXT = 75
SLACK_BUTTON_VALUE = 2000
SLACK_URL = 3000
SLACK_ID = 255
SLACK_FALLBACK_TEXT = 4000
SLACK_IMAGE_ALT = 2000

# Teams Workflows webhooks accept Adaptive Cards; Teams renders up to schema 1.5 on desktop,
# mobile clients lag, so 1.4 is the version we emit. The whole request must stay under ~28 KB.
TEAMS_CARD_VERSION = "1.4"
TEAMS_MAX_PAYLOAD_BYTES = 28_000
TEAMS_TEXT = 4000
TEAMS_MAX_FACTS = 20

ELLIPSIS = "…"


def truncate(text: str, limit: int, link: str | None = None) -> str:
    """`text` cut to at most `limit` characters; when cut, ends with an ellipsis and the link."""
    if len(text) <= limit:
        return text
    suffix = f"{ELLIPSIS} (full text: {link})" if link else ELLIPSIS
    if len(suffix) >= limit:
        suffix = ELLIPSIS
    return text[: limit - len(suffix)].rstrip() + suffix
