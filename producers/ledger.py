"""Which report ids this producer has already published: "duplicates skipped" in the summary.

Downstream is idempotent on `report_id` anyway; the ledger saves the traffic and tells the
operator that a re-sent file held nothing new. In memory for one run, and optionally in a
SQLite file under `settings.home` so that re-running `yiwang produce` on the same export a day
later still reports duplicates. Entries are keyed by the (prefixed) topic, so test sessions
and environments sharing a home never see each other's ids, and are pruned after the
report topics' retention (7 days), past which the broker has forgotten them too.
"""

from __future__ import annotations

import sqlite3
import threading
import time
import uuid
from collections.abc import Iterable
from pathlib import Path

RETENTION_S = 7 * 24 * 3600


class Ledger:
    def __init__(self, path: Path | None = None) -> None:
        self._lock = threading.Lock()
        self._pending: set[tuple[str, uuid.UUID]] = set()
        self._done: set[tuple[str, uuid.UUID]] = set()
        self._db: sqlite3.Connection | None = None
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS published (topic TEXT NOT NULL, report_id TEXT NOT NULL, "
                "at REAL NOT NULL, PRIMARY KEY (topic, report_id)) WITHOUT ROWID"
            )
            self._db.execute("DELETE FROM published WHERE at < ?", (time.time() - RETENTION_S,))

    @property
    def persistent(self) -> bool:
        return self._db is not None

    def claim(self, topic: str, report_id: uuid.UUID) -> bool:
        """True when this id is new: it is then pending until `confirm` or `release`."""
        key = (topic, report_id)
        with self._lock:
            if key in self._pending or key in self._done:
                return False
            if self._db is not None:
                row = self._db.execute(
                    "SELECT 1 FROM published WHERE topic = ? AND report_id = ?", (topic, str(report_id))
                ).fetchone()
                if row is not None:
                    self._done.add(key)
                    return False
            self._pending.add(key)
            return True

    def confirm(self, keys: Iterable[tuple[str, uuid.UUID]]) -> None:
        """The broker acknowledged these: remember them for good."""
        batch = list(keys)
        with self._lock:
            for key in batch:
                self._pending.discard(key)
                self._done.add(key)
            if self._db is not None and batch:
                now = time.time()
                self._db.execute("BEGIN")
                self._db.executemany(
                    "INSERT OR IGNORE INTO published VALUES (?, ?, ?)", [(t, str(r), now) for t, r in batch]
                )
                self._db.execute("COMMIT")

    def release(self, key: tuple[str, uuid.UUID]) -> None:
        """Publishing failed: a later attempt may try again."""
        with self._lock:
            self._pending.discard(key)

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None
