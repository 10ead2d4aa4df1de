"""Places looked up on the resident form before sending: a typed address found in the gazetteer
of the district it belongs to (geo/gazetteer.py's `CityGazetteer`: one gazetteer per district
loaded, each of its newest grid layer), and the lookups counted per device and network address
in the API process's memory.

Several districts share road names (a bare "梅岭街1号" is a building in 沙坪坝 and another in
九龙坡), so a lookup says which district it is for: a district's page passes its code and a bare
address is that district's; an address naming a district (its name, or a street or community of
one district only) is looked up there whatever the page, and the answer says so; with no
district given, a bare address is found only when exactly one district holds it.

The gazetteers are read from PostGIS once per process and again after `REFRESH` (a new layer or
new buildings are seen within that time), so a lookup costs a dictionary probe, not a load.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine

from dispatch.lifecycle.errors import DetailError
from dispatch.residents.values import Limit, UploadWindow
from geo.gazetteer import CityAnswer, CityGazetteer
from geo.service import city_gazetteer_from_db, in_force_by_district, list_versions

REFRESH = timedelta(minutes=10)


def load_city_gazetteer(conn: Connection) -> CityGazetteer:
    """Every district's gazetteer, each of its newest layer version (as the intake reads them)."""
    newest = in_force_by_district(list_versions(conn), None)
    return city_gazetteer_from_db(conn, *sorted(v.id for v in newest))


def typed_point(answer: CityAnswer) -> tuple[float, float] | None:
    """The point a report with a typed address (and no device location) is sent with: the
    building the lookup found, as `GET /r/place` showed it (in the resident's district's gazetteer
    when one is given), so that the intake places the report where the form showed it, whichever
    district's gazetteer it keeps. An address found nowhere goes as typed (None: the intake's own
    lookup, then a desk, places it; a report is never refused for its address); one several
    districts hold, with no district to choose, is refused as on the form (DetailError naming
    `address`, code `ambiguous`)."""
    if answer.match is None:
        if answer.ambiguous:
            raise DetailError("address", f"{answer.why}: say which district", code="ambiguous")
        return None
    return answer.match.lon, answer.match.lat


class PlaceFinder:
    """One process's address lookups and their limits."""

    def __init__(self, limit: Limit) -> None:
        self.window = UploadWindow(limit)
        self._gazetteer: CityGazetteer | None = None
        self._loaded_at: datetime | None = None
        self._lock = threading.Lock()

    def gazetteer(self, engine: Engine, *, now: datetime) -> CityGazetteer:
        """Every district's gazetteer, read again after `REFRESH` (blocking)."""
        with self._lock:
            if self._gazetteer is None or self._loaded_at is None or now - self._loaded_at >= REFRESH:
                with engine.connect() as conn:
                    self._gazetteer = load_city_gazetteer(conn)
                self._loaded_at = now
            return self._gazetteer

    def address(
        self, engine: Engine, text_: str, *, now: datetime, district: str | None = None
    ) -> CityAnswer:
        """The building a typed address names and the district whose gazetteer answered
        (blocking: run it in a threadpool). `district`: the resident's page's district, or None
        for the city's; one that is not loaded raises ValueError naming `district`."""
        return self.gazetteer(engine, now=now).lookup(text_, district)
