"""Places looked up on the resident form before sending: a typed address found the way the
intake finds it (the gazetteer of the newest grid layer: geo/gazetteer.py), and the
lookups counted per device and network address in the API process's memory.

The gazetteer is read from PostGIS once per process and again after `REFRESH` (a new layer or
new buildings are seen within that time), so a lookup costs a dictionary probe, not a load.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

from sqlalchemy import Engine, text

from dispatch.residents.values import Limit, UploadWindow
from geo.gazetteer import AddressMatch, Gazetteer
from geo.service import gazetteer_from_db

REFRESH = timedelta(minutes=10)


class PlaceFinder:
    """One process's address lookups and their limits."""

    def __init__(self, limit: Limit) -> None:
        self.window = UploadWindow(limit)
        self._gazetteer: Gazetteer | None = None
        self._loaded_at: datetime | None = None
        self._lock = threading.Lock()

    def address(self, engine: Engine, text_: str, *, now: datetime) -> AddressMatch | None:
        """The building a typed address names, or None (blocking: run it in a threadpool)."""
        with self._lock:
            if self._gazetteer is None or self._loaded_at is None or now - self._loaded_at >= REFRESH:
                with engine.connect() as conn:
                    version = conn.execute(text("SELECT max(id) FROM geo_layer_version")).scalar()
                    self._gazetteer = gazetteer_from_db(conn, int(version or 0))
                self._loaded_at = now
            gazetteer = self._gazetteer
        return gazetteer.lookup(text_)
