"""The residents' SQL: submissions (hashes only), the rate-limit counts, a report's case as the
resident may see it (stages and times; whether it joined another's case), and where it was
placed on the grid map."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg import AsyncConnection

Conn = AsyncConnection[Any]


@dataclass(frozen=True, slots=True)
class Submission:
    source_ref: str
    report_id: str
    code_hash: str
    submitted_at: datetime


async def insert(
    conn: Conn,
    *,
    source_ref: str,
    report_id: str,
    code_hash: str,
    device_hash: str,
    ip_hash: str,
    at: datetime,
) -> None:
    await conn.execute(
        "INSERT INTO resident_submissions "
        "(source_ref, report_id, code_hash, device_hash, ip_hash, submitted_at) "
        "VALUES (%s, %s, %s, %s, %s, %s)",
        (source_ref, report_id, code_hash, device_hash, ip_hash, at),
    )


async def delete(conn: Conn, source_ref: str) -> None:
    await conn.execute("DELETE FROM resident_submissions WHERE source_ref = %s", (source_ref,))


async def recent(
    conn: Conn, *, device_hash: str, ip_hash: str, since_device: datetime, since_ip: datetime
) -> tuple[int, int]:
    """(reports from this device, reports from this address) in their windows."""
    cur = await conn.execute(
        "SELECT count(*) FILTER (WHERE device_hash = %s AND submitted_at >= %s), "
        "count(*) FILTER (WHERE ip_hash = %s AND submitted_at >= %s) FROM resident_submissions "
        "WHERE (device_hash = %s OR ip_hash = %s) "
        "AND submitted_at >= least(%s::timestamptz, %s::timestamptz)",
        (device_hash, since_device, ip_hash, since_ip, device_hash, ip_hash, since_device, since_ip),
    )
    row = await cur.fetchone()
    return (int(row[0]), int(row[1])) if row else (0, 0)


async def submission(conn: Conn, source_ref: str) -> Submission | None:
    cur = await conn.execute(
        "SELECT source_ref, report_id::text, code_hash, submitted_at FROM resident_submissions "
        "WHERE source_ref = %s",
        (source_ref,),
    )
    row = await cur.fetchone()
    return Submission(*row) if row else None


@dataclass(frozen=True, slots=True)
class CaseView:
    incident_id: str
    state: str
    category: str
    joined: bool  # the report joined a case somebody else reported first
    events: list[tuple[str, datetime]]


async def case_of(conn: Conn, report_id: str) -> CaseView | None:
    """The case the report is in (None until the intake has placed it)."""
    cur = await conn.execute(
        "SELECT i.incident_id::text, i.state, i.category, "
        "EXISTS (SELECT 1 FROM reports o WHERE o.incident_id = r.incident_id AND o.report_id <> r.report_id "
        "        AND (o.received_at, o.report_id) < (r.received_at, r.report_id)) "
        "FROM reports r JOIN incidents i ON i.incident_id = r.incident_id WHERE r.report_id = %s",
        (report_id,),
    )
    row = await cur.fetchone()
    if row is None:
        return None
    incident_id, state, category, joined = row
    cur = await conn.execute(
        "SELECT action, at FROM events WHERE incident_id = %s ORDER BY sequence", (incident_id,)
    )
    return CaseView(
        incident_id, state, category, bool(joined), [(str(a), t) for a, t in await cur.fetchall()]
    )


@dataclass(frozen=True, slots=True)
class PlaceView:
    lon: float | None
    lat: float | None
    grid_code: str | None
    grid: str | None
    community: str | None
    street: str | None
    grids: dict[str, Any]  # GeoJSON FeatureCollection of the community's grids


_PLACE = """
WITH r AS (
    SELECT COALESCE(p.geom, i.geom) AS geom, COALESCE(p.grid_code, i.grid_code) AS grid_code
    FROM reports p JOIN incidents i ON i.incident_id = p.incident_id WHERE p.report_id = %s
),
g AS (
    SELECT code, name, community_code, street_code, version_id FROM geo_grid
    WHERE code = (SELECT grid_code FROM r) ORDER BY version_id DESC LIMIT 1
)
SELECT ST_X(r.geom), ST_Y(r.geom), g.code, g.name, c.name, s.name,
       (SELECT json_build_object('type', 'FeatureCollection', 'features', coalesce(json_agg(
            json_build_object('type', 'Feature', 'id', n.code,
                              'properties', json_build_object('name', n.name),
                              'geometry', ST_AsGeoJSON(ST_ForcePolygonCW(n.geom), 6)::json) ORDER BY n.code),
                '[]'::json))
        FROM geo_grid n WHERE n.community_code = g.community_code AND n.version_id = g.version_id)
FROM r LEFT JOIN g ON true
LEFT JOIN geo_community c ON c.code = g.community_code AND c.version_id = g.version_id
LEFT JOIN geo_street s ON s.code = g.street_code AND s.version_id = g.version_id
"""


async def place_of(conn: Conn, report_id: str) -> PlaceView | None:
    """Where the intake placed the report, with its community's grids for the page's map
    (None until the intake has stored it): the report's own point and grid, else its case's
    (a typed address is placed on the case by the intake's gazetteer). Rings are wound
    clockwise, as d3-geo draws them (dispatch/api/reference.py)."""
    cur = await conn.execute(_PLACE, (report_id,))
    row = await cur.fetchone()
    if row is None:
        return None
    lon, lat, code, grid, community, street, grids = row
    empty: dict[str, Any] = {"type": "FeatureCollection", "features": []}
    return PlaceView(lon, lat, code, grid, community, street, grids or empty)
