"""Where the open cases are, for the redraw (`geo.moves`): one read of the incidents projection."""

from __future__ import annotations

from sqlalchemy import Connection, text

from dispatch.lifecycle.states import OPEN
from geo.moves import OpenPoint

OPEN_POINTS_SQL = (
    "SELECT incident_id::text, grid_code, ST_X(geom), ST_Y(geom), layer_version FROM incidents "
    "WHERE geom IS NOT NULL AND state = ANY(:open) ORDER BY incident_id"
)


def open_states() -> list[str]:
    return sorted(s.value for s in OPEN)


def open_points(conn: Connection) -> list[OpenPoint]:
    """Every open case with a point (a case without one stays at its desk)."""
    rows = conn.execute(text(OPEN_POINTS_SQL), {"open": open_states()})
    return [OpenPoint(i, grid, float(x), float(y)) for i, grid, x, y, _ in rows]
