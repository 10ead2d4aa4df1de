"""Messages for a person at the terminal: on stderr, so stdout stays machine-readable."""

from __future__ import annotations

import sys


def say(message: str) -> None:
    print(f"yiwang: {message}", file=sys.stderr, flush=True)
