"""What text may carry at an edge: no NUL, no control characters, no lone surrogates.

PostgreSQL refuses NUL in text, and neither control characters nor unpaired surrogates (which
cannot be encoded as UTF-8) mean anything in a description, an id or a filter. A field that
holds prose may keep tabs and line breaks; every other field is one line.

>>> control_character("路灯不亮")
>>> control_character("a\\x00b")
1
>>> control_character("line one\\nline two"), control_character("line one\\nline two", newlines=True)
(8, None)
"""

from __future__ import annotations

import re

_ONE_LINE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_PROSE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")  # keeps \t \n \r


def control_character(text: str, *, newlines: bool = False) -> int | None:
    """The index of the first character the field may not hold, or None."""
    found = (_PROSE if newlines else _ONE_LINE).search(text)
    return None if found is None else found.start()


def describe(text: str, at: int) -> str:
    """The reason an edge gives, naming the character by its code point (never echoing it)."""
    return f"contains the control character U+{ord(text[at]):04X} at position {at}"
