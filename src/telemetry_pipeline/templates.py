"""Log templates: a log line with its variable parts masked, named by a short stable id.

A cheap masking parser (numbers, hex ids, UUIDs, IPs, quoted strings) rather than a learnt one:
the pipeline needs the same id for the same template on every worker, with no shared state.
`TemplateMemory` remembers which templates each entity has already shown, for
`new_log_templates`.
"""

from __future__ import annotations

import hashlib
import re
from collections import OrderedDict

_MASKS = (
    re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"),
    re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?\b"),
    re.compile(r"\b(?:0x)?[0-9a-fA-F]*\d[0-9a-fA-F]*\b"),
    re.compile(r"\b\d+(?:\.\d+)?[a-zA-Z%µ]*\b"),
    re.compile(r"\"[^\"]*\"|'[^']*'"),
)
_CACHE: dict[str, str] = {}
_CACHE_LIMIT = 100_000


def template_of(message: str) -> str:
    """The line with its variable parts replaced by `<*>`."""
    text = message.strip()[:512]
    for mask in _MASKS:
        text = mask.sub("<*>", text)
    return text


def template_id(message: str) -> str:
    """A 12-hex-digit id of the line's template, the same on every worker."""
    cached = _CACHE.get(message)
    if cached is not None:
        return cached
    ident = hashlib.blake2b(template_of(message).encode(), digest_size=6).hexdigest()
    if len(_CACHE) >= _CACHE_LIMIT:
        _CACHE.clear()
    _CACHE[message] = ident
    return ident


class TemplateMemory:
    """Which templates each entity has shown before; bounded, forgetting the quietest entity."""

    def __init__(self, max_entities: int = 20_000) -> None:
        self.max_entities = max_entities
        self._seen: OrderedDict[str, set[str]] = OrderedDict()

    def count_new(self, entity_id: str, templates: dict[str, int]) -> int:
        """How many of these templates the entity shows for the first time; then remember them."""
        seen = self._seen.get(entity_id)
        if seen is None:
            seen = set()
            self._seen[entity_id] = seen
            if len(self._seen) > self.max_entities:
                self._seen.popitem(last=False)
        else:
            self._seen.move_to_end(entity_id)
        new = [t for t in templates if t not in seen]
        seen.update(new)
        return len(new)
