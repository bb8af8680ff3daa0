"""The statistics filters of a screen's address (``?from=…&format=cash&group=weekday:Monday``): read, passed to the
API unchanged, and written back into links, so a filtered screen is a link a player can share."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any
from urllib.parse import parse_qsl, urlencode

# The address's names are the API's query parameters, so the screens pass them through without renaming.
API_NAMES = ("currency", "from", "to", "format", "game", "location", "tags", "group", "mix_formats")


@dataclass(frozen=True)
class Filters:
    """What a player narrowed the statistics to; empty strings are "not filtered"."""

    currency: str = ""
    start: str = ""
    end: str = ""
    format: str = ""
    game: str = ""
    location: str = ""
    tags: str = ""
    group: str = ""
    mix_formats: str = ""

    @classmethod
    def parse(cls, search: str) -> Filters:
        """The filters of a location's search string (``?a=b&c=d``); unknown names are ignored."""
        found = dict(parse_qsl(search.lstrip("?"), keep_blank_values=False))
        return cls(**{field: found.get(name, "") for field, name in zip(_FIELDS, API_NAMES, strict=True)})

    def api(self, **more: Any) -> dict[str, Any]:
        """The API's query parameters: the filters that are set, plus ``more``."""
        params = {name: getattr(self, field) for field, name in zip(_FIELDS, API_NAMES, strict=True)}
        return {k: v for k, v in {**params, **more}.items() if v not in ("", None)}

    def query(self, **changes: str) -> str:
        """The search string of these filters with ``changes`` (``"?format=cash"``, or ``""`` with none set)."""
        text = urlencode(replace(self, **changes).api())
        return f"?{text}" if text else ""

    def described(self) -> list[str]:
        """The filters that are set, in words, for the screen's heading."""
        words = {
            "start": "from {}",
            "end": "to {}",
            "format": "{}",
            "game": "{}",
            "location": "at {}",
            "tags": "tagged {}",
            "group": "{}",
            "mix_formats": "cash and tournaments together",
        }
        return [text.format(getattr(self, f).replace(":", " ")) for f, text in words.items() if getattr(self, f)]


_FIELDS = tuple(f.name for f in fields(Filters))
