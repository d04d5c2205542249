"""Drain: online log parsing with a fixed-depth tree (He et al., ICWS 2017).

A line is masked (numbers, addresses, hex ids become `<*>`), split into tokens, and routed
through a tree: first by token count, then by its first `depth - 2` tokens (tokens holding
digits go to a wildcard branch). The leaf holds log groups; the line joins the most similar
group (fraction of positions with equal tokens) if that similarity reaches `similarity`,
else starts a new group. Joining a group turns its differing positions into `<*>`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

WILDCARD = "<*>"
MASKS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?\b"), WILDCARD),  # IPv4[:port]
    (re.compile(r"\b0x[0-9a-fA-F]+\b"), WILDCARD),
    (re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b"), WILDCARD),
    (
        re.compile(r"(?<![A-Za-z0-9])[-+]?\d+(?:\.\d+)?(?:ms|s|MB|KB|GB|B|%)?(?![A-Za-z0-9])"),
        WILDCARD,
    ),
)


@dataclass
class LogGroup:
    """One template and how many lines it has absorbed."""

    group_id: int
    tokens: list[str]
    size: int = 0

    @property
    def template(self) -> str:
        return " ".join(self.tokens)


@dataclass
class _Node:
    children: dict[str, _Node] = field(default_factory=dict)
    groups: list[LogGroup] = field(default_factory=list)


class Drain:
    """An online Drain parser; `add(line)` returns the line's group."""

    def __init__(self, depth: int = 4, similarity: float = 0.4, max_children: int = 100) -> None:
        if depth < 3:
            raise ValueError("depth: must be at least 3")
        self.depth = depth
        self.similarity = similarity
        self.max_children = max_children
        self._root = _Node()
        self.groups: list[LogGroup] = []

    @staticmethod
    def tokens(line: str) -> list[str]:
        masked = line.strip()
        for pattern, replacement in MASKS:
            masked = pattern.sub(replacement, masked)
        return masked.split()

    def add(self, line: str) -> LogGroup:
        tokens = self.tokens(line)
        # Search first, following the wildcard branch for unknown prefix tokens, so a line whose
        # variable field happens to hold no digits still finds its group.
        group = self._closest(self._leaf(tokens, create=False).groups, tokens)
        if group is None:
            leaf = self._leaf(tokens, create=True)
            group = LogGroup(len(self.groups) + 1, list(tokens))
            leaf.groups.append(group)
            self.groups.append(group)
        else:
            group.tokens = [
                a if a == b else WILDCARD for a, b in zip(group.tokens, tokens, strict=True)
            ]
        group.size += 1
        return group

    def match(self, line: str) -> LogGroup | None:
        """The group a line would join, without learning it."""
        tokens = self.tokens(line)
        leaf = self._leaf(tokens, create=False)
        return self._closest(leaf.groups, tokens) if leaf else None

    def _leaf(self, tokens: list[str], *, create: bool) -> _Node:
        node = self._root.children.get(str(len(tokens)))
        if node is None:
            if not create:
                return _Node()
            node = self._root.children.setdefault(str(len(tokens)), _Node())
        for token in tokens[: self.depth - 2]:
            key = WILDCARD if any(c.isdigit() for c in token) else token
            child = node.children.get(key)
            if child is None:
                if not create:
                    child = node.children.get(WILDCARD)
                    if child is None:
                        return _Node()
                elif len(node.children) >= self.max_children - 1 and key != WILDCARD:
                    # A full node sends new tokens down the shared wildcard branch.
                    child = node.children.setdefault(WILDCARD, _Node())
                else:
                    child = node.children.setdefault(key, _Node())
            node = child
        return node

    def _closest(self, groups: list[LogGroup], tokens: list[str]) -> LogGroup | None:
        best: LogGroup | None = None
        best_key = (-1.0, -1)
        for group in groups:
            if len(group.tokens) != len(tokens):
                continue
            same = sum(
                1 for a, b in zip(group.tokens, tokens, strict=True) if a == b and a != WILDCARD
            )
            wildcards = sum(1 for a in group.tokens if a == WILDCARD)
            score = same / len(tokens) if tokens else 1.0
            # Ties go to the group with more wildcards: it is the more general template.
            key = (score, wildcards)
            if key > best_key:
                best, best_key = group, key
        if best is not None and best_key[0] >= self.similarity:
            return best
        return None
