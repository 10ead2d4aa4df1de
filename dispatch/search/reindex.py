"""Hash every stored reporter's phone again with the current key: after the key changes, or
when the schema was migrated without it (0018_search). Batched, one UPDATE per batch."""

from __future__ import annotations

from sqlalchemy import Connection, text

from dispatch.search.phones import phone_digest

BATCH = 5000


def rehash_phones(conn: Connection, key: str) -> int:
    """Reports whose phone hash changed (or was set); a phone-less report's hash is cleared."""
    rows = conn.execute(
        text("SELECT report_id::text, reporter->>'phone', reporter_phone_hash FROM reports")
    ).all()
    changed = [(rid, new) for rid, phone, old in rows if (new := phone_digest(key, phone)) != old]
    for start in range(0, len(changed), BATCH):
        chunk = changed[start : start + BATCH]
        conn.execute(
            text(
                "UPDATE reports r SET reporter_phone_hash = u.digest "
                "FROM unnest(CAST(:ids AS uuid[]), CAST(:digests AS text[])) AS u(id, digest) "
                "WHERE r.report_id = u.id"
            ),
            {"ids": [c[0] for c in chunk], "digests": [c[1] for c in chunk]},
        )
    return len(changed)
