"""Reading a policy file, so every loader reports a broken file the same way (naming the path)."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from config.policy import PolicyError


def read_policy(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(f"{path}: {exc}") from exc
