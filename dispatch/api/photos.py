"""Photos a grid worker attaches when resolving: checked, stored under the settings' home,
referred to by an object key.

Only JPEG, PNG and WebP are taken, recognised by their first bytes (never by the name or the
declared content type), at most `MAX_BYTES` (the worker page shrinks a phone photo to about
1600 px before sending it, a few hundred kB). The key is generated here
(`photos/2026/11/<32 hex>.jpg`), so a name from the client never reaches the file system, and
a key is read back only when it matches that shape.

>>> photo_kind(b"\\xff\\xd8\\xff\\xe0" + bytes(8)).extension
'jpg'
>>> key_path(Path("/h"), "photos/2026/11/../../../etc/passwd")
Traceback (most recent call last):
...
dispatch.api.photos.PhotoError: photo: not a photo key
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

MAX_BYTES = 5 * 1024 * 1024
KEY = re.compile(r"^photos/\d{4}/\d{2}/[0-9a-f]{32}\.(jpg|png|webp)$")


class PhotoError(Exception):
    """An upload that is not taken; `status` is the HTTP answer (413 too large, 415 not a photo)."""

    def __init__(self, message: str, status: int = 422) -> None:
        self.field = "photo"
        self.status = status
        super().__init__(f"photo: {message}")


@dataclass(frozen=True, slots=True)
class PhotoKind:
    extension: str
    media_type: str


JPEG = PhotoKind("jpg", "image/jpeg")
PNG = PhotoKind("png", "image/png")
WEBP = PhotoKind("webp", "image/webp")
BY_EXTENSION = {k.extension: k for k in (JPEG, PNG, WEBP)}


def photo_kind(head: bytes) -> PhotoKind:
    """The kind of image these first bytes start, or PhotoError (415)."""
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    raise PhotoError("only JPEG, PNG or WebP images are taken", status=415)


def new_key(kind: PhotoKind, now: datetime) -> str:
    return f"photos/{now:%Y}/{now:%m}/{uuid.uuid4().hex}.{kind.extension}"


def key_path(home: Path, key: str) -> Path:
    """Where a key's file lives; PhotoError for anything not shaped like a key we made."""
    if not KEY.match(key):
        raise PhotoError("not a photo key")
    return home / key


def store(home: Path, data: bytes, now: datetime) -> tuple[str, PhotoKind]:
    """Check and write one photo (blocking: run it in a thread); its key and kind."""
    if len(data) > MAX_BYTES:
        raise PhotoError(f"larger than {MAX_BYTES // (1024 * 1024)} MB", status=413)
    if not data:
        raise PhotoError("empty upload")
    kind = photo_kind(data[:16])
    key = new_key(kind, now)
    path = key_path(home, key)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".part")
    tmp.write_bytes(data)
    tmp.rename(path)
    return key, kind
