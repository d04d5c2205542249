"""A crash loop whose logs say a dependency is unreachable: restarting the pods fixes nothing.

A process that exits because its database refuses connections starts, fails and exits again in
a new pod just the same; deleting or restarting the pods only resets their back-off, so they
hammer the dependency more often while it recovers. A person has to look at the dependency.
`rollout undo` stays allowed: after a deploy, a wrong address in the new configuration is the
likelier cause, and the undo fixes that.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass

from self_healing_service.guardrails.stage import StageInput, Stop

RESTARTS = ("delete_pod", "rollout_restart")
UNREACHABLE = re.compile(
    r"connection refused|(?:could ?not|cannot|can't|unable to|failed to) connect"
    r"|no route to host|connection timed out|i/o timeout|no such host"
    r"|name or service not known|could not resolve|temporary failure in name resolution"
    r"|ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|ETIMEDOUT",
    re.IGNORECASE,
)
_URL_CREDENTIALS = re.compile(r"(?<=//)[^/@\s:]*:[^/@\s]+@")
_SECRET_VALUE = re.compile(
    r"(?i)\b(password|passwd|pwd|token|secret|api[_-]?key)(\s*[=:]\s*)[^\s,;]+"
)
SHOWN_CHARS = 160


def unreachable_dependency(lines: Sequence[str]) -> str | None:
    """The last log line that says a dependency cannot be reached, secrets masked; or None.
    A structured (JSON) line is shown by its message."""
    for line in reversed(lines):
        text = _message(line.strip())
        if UNREACHABLE.search(text):
            return masked(text)
    return None


def _message(line: str) -> str:
    if line.startswith("{"):
        try:
            record = json.loads(line)
        except ValueError:
            return line
        if isinstance(record, dict):
            for key in ("message", "msg", "textPayload"):
                if isinstance(record.get(key), str):
                    return str(record[key])
    return line


def masked(line: str) -> str:
    """`line` as it may be shown in chat: credentials in URLs and `password=…` values hidden,
    at most `SHOWN_CHARS` characters."""
    line = _URL_CREDENTIALS.sub("***@", line)
    line = _SECRET_VALUE.sub(lambda m: f"{m.group(1)}{m.group(2)}***", line)
    return line if len(line) <= SHOWN_CHARS else line[: SHOWN_CHARS - 1] + "…"


@dataclass(frozen=True)
class DependencyStage:
    name: str = "dependency"

    def __call__(self, given: StageInput) -> Stop | None:
        if given.incident.issue != "crash_loop" or given.step.action not in RESTARTS:
            return None
        line = unreachable_dependency(given.view.logs)
        if line is None:
            return None
        return Stop(
            self.name,
            f"the logs say a dependency is unreachable ({line}): restarting the pods fixes "
            "nothing and resets their back-off",
            "escalate",
        )
