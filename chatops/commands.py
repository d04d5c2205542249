"""The `/heal` words (Slack slash command, Teams outgoing webhook): parsing into a Command and
deciding whether a chat user may run it."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

MODES = ("observe", "recommend", "enforce")
WORDS = (
    "help",
    "status",
    "incidents",
    "show",
    "approve",
    "deny",
    "pause",
    "resume",
    "mode",
    "silence",
    "history",
)
HELP = "\n".join(
    [
        "*/heal* commands:",
        "`status`: mode, pause, open incidents, pending approvals",
        "`incidents`: open incidents",
        "`show ID`: one incident",
        "`approve ID [comment]` / `deny ID [comment]`: answer a pending action",
        "`pause` / `resume`: stop or restart automatic actions",
        "`mode observe|recommend|enforce`: change how much the service may do",
        "`silence NAMESPACE/NAME FOR` (e.g. `30m`, `2h`, `1d`): mute a workload",
        "`history NAMESPACE/NAME`: what was done to a workload",
        "`help`: this text",
    ]
)
_DURATION = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")
_WORKLOAD = re.compile(r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?/[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")
_INCIDENT = re.compile(r"^[A-Za-z0-9._:-]{1,200}$")
_MENTION = re.compile(r"<at>[^<]*</at>", re.IGNORECASE)
MAX_SILENCE_SECONDS = 7 * 24 * 3600


@dataclass(frozen=True)
class Command:
    """A parsed command: the word and its checked arguments."""

    word: str
    incident_id: str = ""
    mode: str = ""
    workload: str = ""
    duration_seconds: int = 0
    comment: str = ""


class CommandError(Exception):
    """The text is not a command we understand; the message says what is wrong (help follows)."""


def parse_duration(text: str) -> int:
    """Seconds in `30m`, `2h`, `1h30m`, `90s`, `1d`; raises CommandError otherwise."""
    match = _DURATION.match(text.strip().lower())
    if not text.strip() or match is None or not any(match.groups()):
        raise CommandError(f"`{text}` is not a duration (examples: 30m, 2h, 1h30m, 1d)")
    days, hours, minutes, seconds = (int(g) if g else 0 for g in match.groups())
    total = days * 86400 + hours * 3600 + minutes * 60 + seconds
    if not 0 < total <= MAX_SILENCE_SECONDS:
        raise CommandError("a silence lasts between 1 second and 7 days")
    return total


def parse(text: str) -> Command:
    """The Command in `text` (Teams mentions such as `<at>heal</at>` are ignored)."""
    words = _MENTION.sub(" ", text).split()
    if words and words[0].lower() in ("/heal", "heal", "@heal"):
        words = words[1:]
    if not words:
        return Command("help")
    word, args = words[0].lower(), words[1:]
    if word not in WORDS:
        raise CommandError(f"unknown command `{words[0][:40]}`")
    if word in ("help", "status", "incidents", "pause", "resume"):
        return Command(word)
    if word in ("show", "approve", "deny"):
        if not args or not _INCIDENT.match(args[0]):
            raise CommandError(f"`{word}` needs an incident ID, e.g. `{word} 0.abc`")
        comment = " ".join(args[1:])[:500] if word != "show" else ""
        return Command(word, incident_id=args[0], comment=comment)
    if word == "mode":
        if len(args) != 1 or args[0].lower() not in MODES:
            raise CommandError("`mode` needs one of observe, recommend, enforce")
        return Command(word, mode=args[0].lower())
    if not args or not _WORKLOAD.match(args[0]):
        raise CommandError(f"`{word}` needs a workload as NAMESPACE/NAME, e.g. `shop/cart`")
    if word == "history":
        return Command(word, workload=args[0])
    if len(args) != 2:
        raise CommandError(
            "`silence` needs a workload and a duration, e.g. `silence shop/cart 30m`"
        )
    return Command(word, workload=args[0], duration_seconds=parse_duration(args[1]))


@dataclass(frozen=True)
class Authoriser:
    """Which chat users (or their groups) may run which command words (from settings)."""

    permissions: Mapping[str, Sequence[str]]
    groups: Mapping[str, Sequence[str]]

    def principals(self, user: str) -> list[str]:
        """The user, the groups that list them (`group:NAME`) and `*`."""
        member_of = [f"group:{name}" for name, users in self.groups.items() if user in users]
        return [user, *member_of, "*"]

    def allowed_words(self, user: str) -> list[str]:
        words: set[str] = {"help"}
        for principal in self.principals(user):
            granted = self.permissions.get(principal, ())
            words |= set(WORDS) if "*" in granted else set(granted)
        return [w for w in WORDS if w in words]

    def refusal(self, user: str, word: str) -> str | None:
        """None when `user` may run `word`; otherwise a clear message saying so."""
        allowed = self.allowed_words(user)
        if word in allowed:
            return None
        return (
            f"Sorry, {user} is not allowed to run `{word}`. You may run: "
            f"{', '.join(allowed)}. Ask an administrator to grant it in CHATOPS_PERMISSIONS."
        )
