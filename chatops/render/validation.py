"""Structural checks of Slack Block Kit messages and Teams Adaptive Card messages against the
documented shapes and limits. Used by the tests over every produced payload and by the sink."""

from __future__ import annotations

import json
from typing import Any

from chatops.render import limits as lim

SLACK_BLOCK_TYPES = {"header", "section", "divider", "context", "actions", "image"}
CARD_ELEMENT_TYPES = {
    "TextBlock",
    "Image",
    "FactSet",
    "Container",
    "ColumnSet",
    "Column",
    "ActionSet",
    "RichTextBlock",
    "ImageSet",
}
CARD_ACTION_TYPES = {
    "Action.OpenUrl",
    "Action.Submit",
    "Action.ShowCard",
    "Action.ToggleVisibility",
    "Action.Execute",
}
CARD_VERSIONS = {"1.0", "1.1", "1.2", "1.3", "1.4"}


def _text_object(obj: Any, where: str, limit: int, plain_only: bool = False) -> list[str]:
    if not isinstance(obj, dict):
        return [f"{where}: must be a text object"]
    kinds = {"plain_text"} if plain_only else {"plain_text", "mrkdwn"}
    problems = []
    if obj.get("type") not in kinds:
        problems.append(f"{where}.type: must be one of {sorted(kinds)}")
    text = obj.get("text")
    if not isinstance(text, str) or not text:
        problems.append(f"{where}.text: must be a non-empty string")
    elif len(text) > limit:
        problems.append(f"{where}.text: {len(text)} characters, limit {limit}")
    return problems


def _slack_block(block: Any, where: str, action_ids: set[str]) -> list[str]:
    if not isinstance(block, dict):
        return [f"{where}: must be an object"]
    kind = block.get("type")
    if kind not in SLACK_BLOCK_TYPES:
        return [f"{where}.type: unknown block type {kind!r}"]
    problems: list[str] = []
    block_id = block.get("block_id")
    if block_id is not None and (not isinstance(block_id, str) or len(block_id) > lim.SLACK_ID):
        problems.append(f"{where}.block_id: string of at most {lim.SLACK_ID} characters")
    if kind == "header":
        problems += _text_object(block.get("text"), f"{where}.text", lim.SLACK_HEADER_TEXT, True)
    elif kind == "section":
        text, fields = block.get("text"), block.get("fields")
        if text is None and not fields:
            problems.append(f"{where}: a section needs text or fields")
        if text is not None:
            problems += _text_object(text, f"{where}.text", lim.SLACK_SECTION_TEXT)
        if fields is not None:
            if not isinstance(fields, list) or len(fields) > lim.SLACK_SECTION_FIELDS:
                problems.append(f"{where}.fields: at most {lim.SLACK_SECTION_FIELDS} items")
            else:
                for i, item in enumerate(fields):
                    problems += _text_object(item, f"{where}.fields[{i}]", lim.SLACK_FIELD_TEXT)
    elif kind == "context":
        elements = block.get("elements")
        if not isinstance(elements, list) or not 1 <= len(elements) <= lim.SLACK_CONTEXT_ELEMENTS:
            problems.append(f"{where}.elements: 1 to {lim.SLACK_CONTEXT_ELEMENTS} items")
        else:
            for i, item in enumerate(elements):
                if isinstance(item, dict) and item.get("type") == "image":
                    continue
                problems += _text_object(item, f"{where}.elements[{i}]", lim.SLACK_CONTEXT_TEXT)
    elif kind == "actions":
        elements = block.get("elements")
        if not isinstance(elements, list) or not 1 <= len(elements) <= lim.SLACK_ACTIONS_ELEMENTS:
            problems.append(f"{where}.elements: 1 to {lim.SLACK_ACTIONS_ELEMENTS} items")
        else:
            for i, item in enumerate(elements):
                problems += _slack_button(item, f"{where}.elements[{i}]", action_ids)
    elif kind == "image":
        url, alt = block.get("image_url"), block.get("alt_text")
        if not isinstance(url, str) or not url or len(url) > lim.SLACK_URL:
            problems.append(f"{where}.image_url: string of at most {lim.SLACK_URL} characters")
        if not isinstance(alt, str) or not alt or len(alt) > lim.SLACK_IMAGE_ALT:
            problems.append(f"{where}.alt_text: string of at most {lim.SLACK_IMAGE_ALT} characters")
    return problems


def _slack_button(item: Any, where: str, action_ids: set[str]) -> list[str]:
    if not isinstance(item, dict) or item.get("type") != "button":
        return [f"{where}: only buttons are produced here"]
    problems = _text_object(item.get("text"), f"{where}.text", lim.SLACK_BUTTON_TEXT, True)
    action_id = item.get("action_id")
    if not isinstance(action_id, str) or not action_id or len(action_id) > lim.SLACK_ID:
        problems.append(f"{where}.action_id: string of 1 to {lim.SLACK_ID} characters")
    elif action_id in action_ids:
        problems.append(f"{where}.action_id: {action_id!r} is not unique in the message")
    else:
        action_ids.add(action_id)
    value = item.get("value")
    if value is not None and (not isinstance(value, str) or len(value) > lim.SLACK_BUTTON_VALUE):
        problems.append(f"{where}.value: string of at most {lim.SLACK_BUTTON_VALUE} characters")
    url = item.get("url")
    if url is not None and (not isinstance(url, str) or len(url) > lim.SLACK_URL):
        problems.append(f"{where}.url: string of at most {lim.SLACK_URL} characters")
    if item.get("style") not in (None, "primary", "danger"):
        problems.append(f"{where}.style: primary or danger")
    return problems


def slack_message_problems(message: Any) -> list[str]:
    """Every way `message` breaks Block Kit's structure or limits (empty when it is fine)."""
    if not isinstance(message, dict):
        return ["message: must be a JSON object"]
    problems: list[str] = []
    text, blocks = message.get("text"), message.get("blocks")
    if text is None and not blocks:
        problems.append("message: needs text or blocks")
    if text is not None and (not isinstance(text, str) or len(text) > 40_000):
        problems.append("text: string of at most 40000 characters")
    if blocks is not None:
        if not isinstance(blocks, list):
            return [*problems, "blocks: must be a list"]
        if len(blocks) > lim.SLACK_MAX_BLOCKS:
            problems.append(f"blocks: {len(blocks)} blocks, limit {lim.SLACK_MAX_BLOCKS}")
        action_ids: set[str] = set()
        block_ids: set[str] = set()
        for i, block in enumerate(blocks):
            problems += _slack_block(block, f"blocks[{i}]", action_ids)
            block_id = block.get("block_id") if isinstance(block, dict) else None
            if isinstance(block_id, str):
                if block_id in block_ids:
                    problems.append(f"blocks[{i}].block_id: {block_id!r} is not unique")
                block_ids.add(block_id)
    return problems


def _card_elements(elements: Any, where: str) -> list[str]:
    if not isinstance(elements, list):
        return [f"{where}: must be a list"]
    problems: list[str] = []
    for i, element in enumerate(elements):
        here = f"{where}[{i}]"
        if not isinstance(element, dict) or element.get("type") not in CARD_ELEMENT_TYPES:
            kind = element.get("type") if isinstance(element, dict) else element
            problems.append(f"{here}.type: {kind!r} is not an Adaptive Card 1.4 element")
            continue
        kind = element["type"]
        if kind == "TextBlock":
            text = element.get("text")
            if not isinstance(text, str) or not text:
                problems.append(f"{here}.text: must be a non-empty string")
        elif kind == "FactSet":
            facts = element.get("facts")
            if not isinstance(facts, list) or not facts:
                problems.append(f"{here}.facts: a non-empty list")
            else:
                for j, fact in enumerate(facts):
                    if not (
                        isinstance(fact, dict)
                        and isinstance(fact.get("title"), str)
                        and isinstance(fact.get("value"), str)
                    ):
                        problems.append(f"{here}.facts[{j}]: needs string title and value")
        elif kind == "Image":
            if not isinstance(element.get("url"), str) or not element["url"]:
                problems.append(f"{here}.url: must be a non-empty string")
        elif kind in ("Container", "Column"):
            problems += _card_elements(element.get("items", []), f"{here}.items")
        elif kind == "ColumnSet":
            problems += _card_elements(element.get("columns", []), f"{here}.columns")
        elif kind == "ActionSet":
            problems += _card_actions(element.get("actions"), f"{here}.actions")
    return problems


def _card_actions(actions: Any, where: str) -> list[str]:
    if not isinstance(actions, list):
        return [f"{where}: must be a list"]
    problems: list[str] = []
    for i, action in enumerate(actions):
        here = f"{where}[{i}]"
        if not isinstance(action, dict) or action.get("type") not in CARD_ACTION_TYPES:
            problems.append(f"{here}.type: not an Adaptive Card action")
            continue
        if action["type"] == "Action.OpenUrl":
            url = action.get("url")
            if not isinstance(url, str) or not url.startswith(("http://", "https://")):
                problems.append(f"{here}.url: must be an http(s) URL")
        if not isinstance(action.get("title", ""), str):
            problems.append(f"{here}.title: must be a string")
    return problems


def teams_message_problems(message: Any) -> list[str]:
    """Every way `message` breaks the Workflows/Teams message shape or Adaptive Card 1.4."""
    if not isinstance(message, dict):
        return ["message: must be a JSON object"]
    problems: list[str] = []
    size = len(json.dumps(message, ensure_ascii=False).encode("utf-8"))
    if size > lim.TEAMS_MAX_PAYLOAD_BYTES:
        problems.append(f"message: {size} bytes, limit {lim.TEAMS_MAX_PAYLOAD_BYTES}")
    if message.get("type") != "message":
        problems.append("type: must be 'message'")
    attachments = message.get("attachments")
    if attachments is None:
        if not isinstance(message.get("text"), str) or not message["text"]:
            problems.append("message: needs attachments or text")
        return problems
    if not isinstance(attachments, list) or not attachments:
        return [*problems, "attachments: a non-empty list"]
    for i, attachment in enumerate(attachments):
        here = f"attachments[{i}]"
        if not isinstance(attachment, dict):
            problems.append(f"{here}: must be an object")
            continue
        if attachment.get("contentType") != "application/vnd.microsoft.card.adaptive":
            problems.append(f"{here}.contentType: only Adaptive Cards (legacy MessageCard is gone)")
        card = attachment.get("content")
        if not isinstance(card, dict) or card.get("type") != "AdaptiveCard":
            problems.append(f"{here}.content.type: must be 'AdaptiveCard'")
            continue
        if card.get("version") not in CARD_VERSIONS:
            problems.append(f"{here}.content.version: {card.get('version')!r}, at most 1.4")
        problems += _card_elements(card.get("body"), f"{here}.content.body")
        if "actions" in card:
            problems += _card_actions(card["actions"], f"{here}.content.actions")
    return problems
