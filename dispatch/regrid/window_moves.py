"""A case that moves (a CAP Update's new point, a redrawn grid) takes its merge-window row along.

The intake merges a new report into the cases of the `merge_window` table near it; were the row
left at the old point, later reports there would still join a case that is now elsewhere, and
reports at the new point would open cases of their own. The row is moved under the intake's own
merge-cell locks (`dispatch.merging.lock_keys`, taken by `dispatch.intake.store.lock`) for the
old and the new point, so no intake batch reads it half-way. Call it first in the transaction,
before the incident row is locked: the intake takes the cell locks first too, and the same order
everywhere is what keeps the two from deadlocking.
"""

from __future__ import annotations

from typing import Any

from psycopg import AsyncConnection

from dispatch.intake.store import lock
from dispatch.merging import MergePolicy, lock_keys

Conn = AsyncConnection[Any]


async def move_in_merge_window(
    conn: Conn,
    incident_id: str,
    policy: MergePolicy,
    *,
    point: tuple[float, float] | None = None,
    street: tuple[str | None] | None = None,
) -> bool:
    """Move the case's row to `point` (lon, lat) and/or the street (`street=(code,)`); False when
    it has none (a closed case left the window, a case without a point never had a row)."""
    cur = await conn.execute(
        "SELECT problem, ST_X(geom), ST_Y(geom) FROM merge_window WHERE incident_id = %s::uuid",
        (incident_id,),
    )
    row = await cur.fetchone()
    if row is None:
        return False
    problem, lon, lat = str(row[0]), float(row[1]), float(row[2])
    keys = set(lock_keys(problem, lon, lat, policy))
    if point is not None:
        keys.update(lock_keys(problem, point[0], point[1], policy))
    await lock(conn, keys)
    lon, lat = point if point is not None else (lon, lat)
    await conn.execute(
        "UPDATE merge_window SET geom = ST_SetSRID(ST_MakePoint(%s, %s), 4326), "
        "street_code = CASE WHEN %s THEN %s ELSE street_code END WHERE incident_id = %s::uuid",
        (lon, lat, street is not None, street[0] if street else None, incident_id),
    )
    return True
