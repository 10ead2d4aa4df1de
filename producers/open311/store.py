"""What GET requests answers from: a log of the requests this intake accepted, plus a seam
for their live status.

The intake records each accepted request (id, service, place, time; no personal data).
`SharedRequestLog` keeps it in PostgreSQL (table `open311_requests`), so every API host
answers for every request: the default. `RequestLog` keeps it in a SQLite file (or in
memory), for a single intake process and tests. Status is "open" with the note "received;
awaiting dispatch" until a `StatusSource` says otherwise (dispatch/api/status.py reads the
case from the dispatch database: state, resolution note, deadline, and the return visit (回访)
of its latest closing).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

import orjson
from sqlalchemy import Engine, RowMapping, text

from schemas.open311_status import StatusUpdate
from schemas.report import Report

RECEIVED_NOTE = "received; awaiting dispatch"
MAX_RESULTS = 1000


class StatusSource(Protocol):
    """The seam to the dispatch side: current status of published requests by report id."""

    def statuses(self, report_ids: Sequence[str]) -> Mapping[str, StatusUpdate]: ...


class ReceivedOnly:
    """No dispatch information yet: every accepted request is simply open."""

    def statuses(self, report_ids: Sequence[str]) -> Mapping[str, StatusUpdate]:
        return {}


COLUMNS = (
    "service_request_id",
    "source",
    "service_code",
    "service_name",
    "description",
    "agency_responsible",
    "requested_datetime",
    "address",
    "lat",
    "long",
    "media_url",
)


class RequestLog:
    def __init__(self, path: Path | None) -> None:
        self._lock = threading.Lock()
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(
            ":memory:" if path is None else path, check_same_thread=False, isolation_level=None
        )
        self._db.row_factory = sqlite3.Row
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS requests (service_request_id TEXT PRIMARY KEY, source TEXT, "
            "service_code TEXT, service_name TEXT, description TEXT, agency_responsible TEXT, "
            "requested_datetime TEXT, address TEXT, lat REAL, long REAL, media_url TEXT)"
        )
        self._db.execute("CREATE INDEX IF NOT EXISTS requests_time ON requests (requested_datetime)")

    def record(self, report: Report, *, service_name: str, agency: str) -> None:
        loc = report.location
        row = (
            str(report.report_id),
            report.source.value,
            report.category,
            service_name,
            report.description,
            agency,
            report.reported_at.isoformat(),
            loc.address,
            loc.lat,
            loc.lon,
            report.attachments[0].uri if report.attachments else None,
        )
        with self._lock:
            self._db.execute("INSERT OR IGNORE INTO requests VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", row)

    def get(self, ids: Sequence[str]) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._db.execute(
                "SELECT * FROM requests WHERE service_request_id IN (SELECT value FROM json_each(?))",
                (orjson.dumps(list(ids)).decode(),),
            )
            return [dict(r) for r in rows]

    def search(self, *, codes: Sequence[str], start: datetime, end: datetime) -> list[dict[str, Any]]:
        """Most recent first; `codes` empty = every service."""
        codes_json = orjson.dumps(list(codes)).decode()
        with self._lock:
            rows = self._db.execute(
                "SELECT * FROM requests WHERE requested_datetime >= ? AND requested_datetime <= ? "
                "AND (? = '[]' OR service_code IN (SELECT value FROM json_each(?))) "
                "ORDER BY requested_datetime DESC LIMIT ?",
                (
                    start.isoformat(),
                    end.isoformat(),
                    codes_json,
                    codes_json,
                    MAX_RESULTS,
                ),
            )
            return [dict(r) for r in rows]

    def close(self) -> None:
        with self._lock:
            self._db.close()


_SELECT = (
    "SELECT service_request_id, source, service_code, service_name, description, agency_responsible, "
    "requested_at, address, lat, long, media_url FROM open311_requests "
)


def _row(mapping: RowMapping) -> dict[str, Any]:
    row = dict(mapping)
    row["requested_datetime"] = row.pop("requested_at").isoformat()
    return row


class SharedRequestLog:
    """The request log in PostgreSQL: the same answers from every API host."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def record(self, report: Report, *, service_name: str, agency: str) -> None:
        loc = report.location
        with self.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO open311_requests (service_request_id, source, service_code, service_name, "
                    "description, agency_responsible, requested_at, address, lat, long, media_url) VALUES "
                    "(:id, :source, :code, :name, :description, :agency, :at, :address, :lat, :long, :media) "
                    "ON CONFLICT DO NOTHING"
                ),
                {
                    "id": str(report.report_id),
                    "source": report.source.value,
                    "code": report.category,
                    "name": service_name,
                    "description": report.description,
                    "agency": agency,
                    "at": report.reported_at,
                    "address": loc.address,
                    "lat": loc.lat,
                    "long": loc.lon,
                    "media": report.attachments[0].uri if report.attachments else None,
                },
            )

    def get(self, ids: Sequence[str]) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = conn.execute(text(_SELECT + "WHERE service_request_id = ANY(:ids)"), {"ids": list(ids)})
            return [_row(r._mapping) for r in rows]

    def search(self, *, codes: Sequence[str], start: datetime, end: datetime) -> list[dict[str, Any]]:
        """Most recent first; `codes` empty = every service."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                text(
                    _SELECT + "WHERE requested_at BETWEEN :start AND :end "
                    "AND (cardinality(CAST(:codes AS text[])) = 0 OR service_code = ANY(:codes)) "
                    "ORDER BY requested_at DESC LIMIT :limit"
                ),
                {"start": start, "end": end, "codes": list(codes), "limit": MAX_RESULTS},
            )
            return [_row(r._mapping) for r in rows]

    def close(self) -> None:
        """The engine belongs to the caller."""
