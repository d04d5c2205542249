"""The sink's HTML page: each stored message drawn roughly as Slack or Teams would show it,
replies under their thread, so a person can see what the team would see."""

from __future__ import annotations

import html
import re
from typing import Any

STYLE = """
body{font-family:system-ui,sans-serif;margin:2rem;background:#f6f7f9;color:#1d1c1d}
.msg{background:#fff;border:1px solid #ddd;border-radius:8px;padding:.8rem 1rem;margin:.8rem 0}
.reply{margin-left:2.5rem;border-left:4px solid #c7d2fe}
.meta{color:#666;font-size:.8rem}.hdr{font-weight:700;font-size:1.1rem}
.fields{display:grid;grid-template-columns:1fr 1fr;gap:.2rem 1rem}
.btn{display:inline-block;border:1px solid #999;border-radius:4px;padding:.1rem .6rem;margin:.2rem}
.primary{background:#007a5a;color:#fff}.danger{background:#e01e5a;color:#fff}
.ctx{color:#555;font-size:.85rem}.attention{color:#b00020}
pre{background:#f4f4f4;padding:.4rem;white-space:pre-wrap}
"""


def _mrkdwn(text: str) -> str:
    escaped = html.escape(text, quote=False)
    escaped = re.sub(r"```(.*?)```", r"<pre>\1</pre>", escaped, flags=re.S)
    escaped = re.sub(r"\*(\S[^*\n]*)\*", r"<b>\1</b>", escaped)
    escaped = re.sub(r"`([^`\n]+)`", r"<code>\1</code>", escaped)
    return escaped.replace("\n", "<br>")


def _slack(body: dict[str, Any]) -> str:
    blocks = body.get("blocks") or []
    if not blocks:
        return f"<div>{_mrkdwn(str(body.get('text', '')))}</div>"
    out: list[str] = []
    for block in blocks:
        kind = block.get("type")
        if kind == "header":
            out.append(f"<div class='hdr'>{html.escape(block['text']['text'])}</div>")
        elif kind == "section":
            if "text" in block:
                out.append(f"<div>{_mrkdwn(block['text']['text'])}</div>")
            if block.get("fields"):
                cells = "".join(f"<div>{_mrkdwn(f['text'])}</div>" for f in block["fields"])
                out.append(f"<div class='fields'>{cells}</div>")
        elif kind == "context":
            texts = " · ".join(_mrkdwn(e.get("text", "")) for e in block["elements"])
            out.append(f"<div class='ctx'>{texts}</div>")
        elif kind == "actions":
            buttons = "".join(
                f"<span class='btn {html.escape(e.get('style', ''))}'>"
                f"{html.escape(e['text']['text'])}</span>"
                for e in block["elements"]
            )
            out.append(f"<div>{buttons}</div>")
    return "".join(out)


def _card_elements(elements: list[dict[str, Any]]) -> str:
    out: list[str] = []
    for element in elements:
        kind = element.get("type")
        if kind == "TextBlock":
            cls = "hdr" if element.get("weight") == "Bolder" else ""
            if element.get("color") == "Attention":
                cls += " attention"
            out.append(f"<div class='{cls}'>{_mrkdwn(element.get('text', ''))}</div>")
        elif kind == "FactSet":
            cells = "".join(
                f"<div><b>{html.escape(f['title'])}</b></div><div>{html.escape(f['value'])}</div>"
                for f in element.get("facts", [])
            )
            out.append(f"<div class='fields'>{cells}</div>")
        elif kind == "Image":
            url = str(element.get("url", ""))
            if url.startswith("data:image/png;base64,"):
                out.append(f"<img alt='{html.escape(element.get('altText', ''))}' src='{url}'>")
    return "".join(out)


def _teams(body: dict[str, Any]) -> str:
    parts = []
    for attachment in body.get("attachments") or []:
        card = attachment.get("content") or {}
        parts.append(_card_elements(card.get("body") or []))
        buttons = "".join(
            f"<a class='btn' href='{html.escape(a.get('url', '#'))}'>"
            f"{html.escape(a.get('title', ''))}</a>"
            for a in card.get("actions") or []
        )
        parts.append(f"<div>{buttons}</div>")
    if not parts:
        parts.append(f"<div>{_mrkdwn(str(body.get('text', '')))}</div>")
    return "".join(parts)


def render_page(messages: list[dict[str, Any]]) -> str:
    """The whole page: top-level messages in order, each followed by its thread."""
    replies: dict[str, list[dict[str, Any]]] = {}
    for message in messages:
        if message["thread_ts"]:
            replies.setdefault(message["thread_ts"], []).append(message)

    def draw(message: dict[str, Any], reply: bool) -> str:
        body = message["body"]
        content = _teams(body) if message["platform"] == "teams" else _slack(body)
        meta = (
            f"{html.escape(message['platform'])} · {html.escape(message['channel'])} · "
            f"ts {html.escape(message['ts'])} · revisions {message['revisions']}"
        )
        cls = "msg reply" if reply else "msg"
        return f"<div class='{cls}'><div class='meta'>{meta}</div>{content}</div>"

    parts = []
    for message in messages:
        if message["thread_ts"]:
            continue
        parts.append(draw(message, False))
        parts.extend(draw(r, True) for r in replies.get(message["ts"], []))
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>gke-heal chat sink</title>"
        f"<style>{STYLE}</style></head><body><h1>Chat sink</h1>"
        f"<p class='meta'>{len(messages)} messages</p>{''.join(parts)}</body></html>"
    )
