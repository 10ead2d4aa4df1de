"""Shared positions: used for "nearest" while fresh, forgotten when stale or withdrawn."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from config.settings import Settings
from dispatch.cases.boot import connect
from dispatch.positions import service as positions
from dispatch.routing.values import Candidate
from geo.coords import CoordinateError

NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
MAX_AGE = positions.load_max_age()


def test_fresh_positions_replace_the_home_address() -> None:
    home = Candidate("w1", "grid_worker", "g", "c", "s", "office", 0, 106.40, 29.50)
    other = Candidate("w2", "grid_worker", "g", "c", "s", "office", 0, 106.41, 29.51)
    (moved, kept) = positions.placed([home, other], {"w1": positions.Position(106.45, 29.56, NOW)})
    assert (moved.lon, moved.lat) == (106.45, 29.56) and kept == other
    assert timedelta(minutes=30) == MAX_AGE


@pytest.mark.anyio
@pytest.mark.db
async def test_a_position_is_read_while_fresh_and_forgotten_after(kafka: Settings, engine: Engine) -> None:
    conn = await connect(kafka, application_name="yiwang-test")
    try:
        await positions.share(conn, "pw-1", lon=106.45, lat=29.56, accuracy_m=12, at=NOW, max_age=MAX_AGE)
        await positions.share(
            conn,
            "pw-2",
            lon=106.46,
            lat=29.57,
            accuracy_m=None,
            at=NOW - timedelta(minutes=20),
            max_age=MAX_AGE,
        )
        got = await positions.fresh(
            conn, ["pw-1", "pw-2", "pw-3"], now=NOW + timedelta(minutes=15), max_age=MAX_AGE
        )
        assert set(got) == {"pw-1"}  # pw-2 is 35 minutes old by then: not used
        # an older report never overwrites a newer one
        await positions.share(
            conn, "pw-1", lon=1.0, lat=1.0, accuracy_m=None, at=NOW - timedelta(minutes=1), max_age=MAX_AGE
        )
        assert (await positions.fresh(conn, ["pw-1"], now=NOW, max_age=MAX_AGE))["pw-1"].lon == 106.45
        # stale rows are deleted (personal data), and stopping forgets at once
        await positions.forget(conn, "pw-1", now=NOW + timedelta(minutes=31), max_age=MAX_AGE)
        cur = await conn.execute("SELECT count(*) FROM worker_positions WHERE worker_id LIKE 'pw-%'")
        assert (await cur.fetchone()) == (0,)
        with pytest.raises(CoordinateError, match="lat"):
            await positions.share(conn, "pw-1", lon=106.0, lat=95.0, accuracy_m=None, at=NOW, max_age=MAX_AGE)
    finally:
        await conn.close()
