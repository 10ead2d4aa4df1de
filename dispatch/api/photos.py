"""Photos a grid worker attaches when resolving: checked, stored in PostgreSQL (table
`photos`, so every API host serves every photo), referred to by an object key.

Only JPEG, PNG and WebP are taken, recognised by their first bytes (never by the name or the
declared content type), at most `MAX_BYTES` (the worker page shrinks a phone photo to about
1600 px before sending it, a few hundred kB). The key is generated here
(`photos/2026/11/<32 hex>.jpg`), so a name from the client is never used, and a key is read
back only when it matches that shape.

>>> photo_kind(b"\\xff\\xd8\\xff\\xe0" + bytes(8)).extension
'jpg'
>>> checked_key("photos/2026/11/../../../etc/passwd")
Traceback (most recent call last):
...
dispatch.api.photos.PhotoError: photo: not a photo key
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg import AsyncConnection

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


def checked_key(key: str) -> str:
    """The key itself; PhotoError for anything not shaped like a key we made."""
    if not KEY.match(key):
        raise PhotoError("not a photo key")
    return key


def checked(data: bytes) -> PhotoKind:
    """Size and kind of an upload, or PhotoError (413 too large, 415 not a photo)."""
    if len(data) > MAX_BYTES:
        raise PhotoError(f"larger than {MAX_BYTES // (1024 * 1024)} MB", status=413)
    if not data:
        raise PhotoError("empty upload")
    return photo_kind(data[:16])


async def store(conn: AsyncConnection[Any], data: bytes, now: datetime) -> tuple[str, PhotoKind]:
    """Check and write one photo (committed on an autocommit connection); its key and kind."""
    kind = checked(data)
    key = new_key(kind, now)
    await conn.execute(
        "INSERT INTO photos (photo_key, media_type, data, stored_at) VALUES (%s, %s, %s, %s)",
        (key, kind.media_type, data, now),
    )
    return key, kind


async def load(conn: AsyncConnection[Any], key: str) -> tuple[bytes, PhotoKind] | None:
    """A stored photo and its kind; None when there is none under that key."""
    cur = await conn.execute("SELECT data FROM photos WHERE photo_key = %s", (checked_key(key),))
    row = await cur.fetchone()
    if row is None:
        return None
    return bytes(row[0]), BY_EXTENSION[key.rsplit(".", 1)[1]]
