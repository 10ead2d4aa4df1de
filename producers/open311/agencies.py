"""Open311 API keys per agency (config/agencies.toml): the key decides the source.

Only SHA-256 digests of keys are configured; a presented key is hashed and compared in
constant time against every digest, so neither the keys nor their timing leak.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from config.policy import CONFIG_DIR, PolicyError
from schemas.report import Source

AGENCIES_FILE = CONFIG_DIR / "agencies.toml"


@dataclass(frozen=True, slots=True)
class Agency:
    name: str
    source: Source
    key_sha256: str


@dataclass(frozen=True, slots=True)
class Directory:
    jurisdiction_id: str
    contact: str
    key_service: str
    changeset: str
    agencies: tuple[Agency, ...]

    def authenticate(self, key: str | None) -> Agency | None:
        if not key:
            return None
        digest = hashlib.sha256(key.encode("utf-8")).hexdigest()
        found = None
        for agency in self.agencies:  # no early exit: the time taken does not depend on which matched
            if hmac.compare_digest(digest, agency.key_sha256):
                found = agency
        return found


def parse_directory(doc: dict[str, Any], origin: str = "agencies") -> Directory:
    head = doc.get("open311", {})
    agencies: list[Agency] = []
    for i, entry in enumerate(doc.get("agency", [])):
        where = f"{origin}: agency[{i}]"
        try:
            source = Source(entry.get("source"))
        except ValueError:
            raise PolicyError(f"{where}: unknown source {entry.get('source')!r}") from None
        digest = str(entry.get("key_sha256", ""))
        if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise PolicyError(f"{where}: key_sha256 must be 64 lowercase hex digits")
        agencies.append(Agency(str(entry.get("name") or source.value), source, digest))
    if len({a.key_sha256 for a in agencies}) != len(agencies):
        raise PolicyError(f"{origin}: two agencies share a key")
    return Directory(
        jurisdiction_id=str(head.get("jurisdiction_id", "")),
        contact=str(head.get("contact", "")),
        key_service=str(head.get("key_service", "")),
        changeset=str(head.get("changeset", "")),
        agencies=tuple(agencies),
    )


def load_directory(path: Path = AGENCIES_FILE) -> Directory:
    try:
        with path.open("rb") as fh:
            return parse_directory(tomllib.load(fh), origin=str(path))
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(f"{path}: {exc}") from exc


def new_key() -> tuple[str, str]:
    """A fresh API key and its digest (the digest goes into config/agencies.toml)."""
    key = secrets.token_urlsafe(24)
    return key, hashlib.sha256(key.encode("utf-8")).hexdigest()
