"""A district team's roster workbook of 3,000 rows: refused whole when rows are bad (each
problem named by sheet, row and column), landed in one go once fixed; the new people get
reports routed to them by the real intake, log in with the PIN they were issued, and routing
follows a leave and a swap recorded afterwards."""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import Engine, func, select

from config.settings import Settings
from dispatch.api.app import create_app
from dispatch.people.imports import import_rows
from dispatch.people.sheet import COLUMNS, read_roster, write_roster, write_xlsx
from dispatch.people.sql import add_exception, export_rows, remove_exception
from dispatch.routing.rosters import ExceptionKind, RosterException
from geo.models import WorkerRow
from geo.reference import ReferenceDistrict
from geo.reference.district import Worker
from tests.casework import WEDNESDAY_10, Harness, harness, report_in
from tests.streams.harness import REPO, worker_env

pytestmark = [pytest.mark.db, pytest.mark.kafka]
ROWS = 3000
NEW1, NEW2 = "sx-new-0001", "sx-new-0002"


def _row(w: Worker) -> list[object]:
    return [w.worker_id, w.name, w.force, w.street_code or "", w.community_code or "", w.grid_code or "",
            w.roster, w.phone, w.home_lon, w.home_lat, "yes"]  # fmt: skip


GRID = "500106001001001"  # its grid worker has a development PIN in config/accounts.toml
DEV_WORKER, DEV_PIN = "500106001001001-grid_worker-1", "1234"


def _grid_index(district: ReferenceDistrict) -> int:
    """The grid whose grid workers the sheet replaces by two new people."""
    return next(i for i, g in enumerate(district.grids) if g.code == GRID)


def _sheet(district: ReferenceDistrict) -> tuple[list[list[object]], list[str]]:
    """Whole communities of the reference district (the target grid's first), the target grid's
    grid workers replaced by NEW1 and NEW2, new people up to 3,000 rows; returns the rows and
    the ids dropped (a sheet replaces the workforce of the communities it names)."""
    grid = district.grids[_grid_index(district)]
    by_community: dict[str, list[Worker]] = {}
    for w in district.workers:
        if w.community_code:
            by_community.setdefault(w.community_code, []).append(w)
    order = [grid.parent_code, *(c for c in by_community if c != grid.parent_code)]
    chosen: list[Worker] = []
    for code in order:
        if len(chosen) + len(by_community[code]) > ROWS - 100:
            break
        chosen += by_community[code]
    dropped = [w.worker_id for w in chosen if w.grid_code == grid.code and w.force == "grid_worker"]
    rows = [_row(w) for w in chosen if w.worker_id not in dropped]
    rows.append(
        [NEW1, "新网格员甲", "grid_worker", "", "", grid.code, "office", "138 0000 0001", "", "", "yes"]
    )
    rows.append([NEW2, "新网格员乙", "grid_worker", "", "", grid.code, "night", "13800000002", "", "", "yes"])
    covered = {w.community_code for w in chosen}
    others = [g for g in district.grids if g.parent_code in covered and g.code != grid.code]
    i = 3
    while len(rows) < ROWS:
        g = others[i % len(others)]
        rows.append(
            [
                f"sx-new-{i:04d}",
                f"新人{i}",
                "sanitation",
                "",
                "",
                g.code,
                "early",
                f"1390000{i:04d}",
                "",
                "",
                "",
            ]
        )
        i += 1
    return rows, dropped


def test_a_bad_workbook_is_refused_naming_every_problem(
    tmp_path: Path, people_engine: Engine, reference: ReferenceDistrict
) -> None:
    rows, _ = _sheet(reference)
    bad = [list(r) for r in rows]
    bad[10][5] = "500106099099099"  # sheet row 12: unknown grid
    bad[20][0] = bad[21][0]  # rows 22 and 23: the same id
    bad[30][7] = "12345"  # row 32: not a phone
    bad[40][2] = "astronaut"  # row 42: unknown force
    bad[50][6] = "siesta"  # row 52: unknown roster
    path = tmp_path / "roster.xlsx"
    path.write_bytes(write_xlsx(bad))
    with people_engine.begin() as conn:
        before = conn.scalar(select(func.count()).select_from(WorkerRow).where(WorkerRow.active))
        outcome = import_rows(conn, read_roster(path))
        after = conn.scalar(select(func.count()).select_from(WorkerRow).where(WorkerRow.active))
    assert outcome.rows == ROWS and outcome.result is None
    named = {(p.sheet, p.row, p.column) for p in outcome.problems}
    assert named == {
        ("people", 12, "grid_code"),
        ("people", 23, "worker_id"),
        ("people", 32, "phone"),
        ("people", 42, "force"),
        ("people", 52, "roster"),
    }, outcome.lines()
    text = "\n".join(outcome.lines())
    assert (
        "unknown grid '500106099099099'" in text
        and "astronaut" in text
        and "also sheet 'people' row 22" in text
    )
    assert before == after  # nothing written


@pytest.mark.anyio
async def test_the_fixed_workbook_lands_routes_and_logs_in(
    tmp_path: Path, people_settings: Settings, people_engine: Engine, reference: ReferenceDistrict
) -> None:
    rows, dropped = _sheet(reference)
    path = tmp_path / "roster.xlsx"
    path.write_bytes(write_xlsx(rows))
    with people_engine.begin() as conn:
        outcome = import_rows(conn, read_roster(path))
    result = outcome.result
    assert result is not None and not outcome.problems
    new = sum(1 for r in rows if str(r[0]).startswith("sx-new-"))
    assert (len(result.added), len(result.changed), sorted(result.deactivated)) == (new, 0, sorted(dropped))
    assert sorted(result.pins) == sorted(result.added) and all(len(p) == 6 for p in result.pins.values())
    with people_engine.connect() as conn:
        stored = conn.scalar(select(func.count()).select_from(WorkerRow).where(WorkerRow.active))
        exported = export_rows(conn)
    assert stored == len(reference.workers) - len(dropped) + new == len(exported)

    # the same sheet again changes nothing and issues no PIN
    with people_engine.begin() as conn:
        again = import_rows(conn, read_roster(path)).result
    assert again is not None and (again.added, again.changed, again.deactivated, again.pins) == (
        [],
        [],
        [],
        {},
    )

    grid = _grid_index(reference)
    async with harness(people_settings, people_engine, now=WEDNESDAY_10) as h:
        # Wednesday 10:00: NEW1 (office) is on shift, NEW2 (night) is not
        (first,) = await h.report([report_in(reference, grid, category="streetlight_out")])
        assert await _assignee(h, first) == NEW1

        with people_engine.begin() as conn:
            leave = add_exception(
                conn,
                RosterException(ExceptionKind.LEAVE, NEW1, date(2026, 11, 25), date(2026, 11, 25)),
                by="t",
            )
        await h.intake.refresh()  # what the running worker does every REFRESH_EVERY_S
        (second,) = await h.report([report_in(reference, grid, category="water_outage")])
        assert await _assignee(h, second) not in (NEW1, NEW2)  # nobody of the grid on shift

        with people_engine.begin() as conn:
            remove_exception(conn, leave)
            add_exception(
                conn,
                RosterException(ExceptionKind.SWAP, NEW1, date(2026, 11, 25), date(2026, 11, 25), NEW2),
                by="t",
            )
        await h.intake.refresh()
        (third,) = await h.report(
            [report_in(reference, grid, category="hotline_consultation", source="patrol")]
        )
        assert await _assignee(h, third) == NEW2  # works NEW1's office hours today

    with TestClient(create_app(people_settings)) as client:
        ok = client.post("/auth/login", json={"worker_id": NEW1, "pin": result.pins[NEW1]})
        assert ok.status_code == 200, ok.text
        assert ok.json()["worker"] == NEW1
        wrong = "0" * 6 if result.pins[NEW1] != "0" * 6 else "1" * 6
        assert client.post("/auth/login", json={"worker_id": NEW1, "pin": wrong}).status_code == 401
        # a deactivated person cannot log in, even with the development PIN of config/accounts.toml
        assert DEV_WORKER in dropped
        gone = client.post("/auth/login", json={"worker_id": DEV_WORKER, "pin": DEV_PIN})
        assert gone.status_code == 401


async def _assignee(h: Harness, incident_id: str) -> str | None:
    cur = await h.conn.execute("SELECT assignee_id FROM incidents WHERE incident_id = %s", (incident_id,))
    row = await cur.fetchone()
    assert row is not None
    return None if row[0] is None else str(row[0])


def test_the_export_reads_back_as_the_same_roster(tmp_path: Path, people_engine: Engine) -> None:
    with people_engine.connect() as conn:
        rows = export_rows(conn, scope=GRID[:12])
    path = tmp_path / "community.xlsx"
    path.write_bytes(write_xlsx(rows))
    sheet = load_workbook(path, read_only=True)
    header = next(sheet.worksheets[0].iter_rows(values_only=True))
    assert tuple(header) == COLUMNS
    with people_engine.begin() as conn:
        outcome = import_rows(conn, read_roster(path))
    assert outcome.result is not None and rows
    assert (outcome.result.added, outcome.result.changed, outcome.result.deactivated) == ([], [], [])


def test_the_commands_refuse_a_sheet_and_reset_a_pin(
    tmp_path: Path, people_settings: Settings, people_engine: Engine
) -> None:
    env = worker_env(people_settings, tmp_path)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "deploy.cli", *args],
            check=False,
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    sheet = tmp_path / "community.csv"
    with people_engine.connect() as conn:
        sheet.write_bytes(write_roster(sheet.name, export_rows(conn, scope=GRID[:12])))
    sheet.write_text(sheet.read_text(encoding="utf-8").replace(",office,", ",siesta,", 1), encoding="utf-8")
    refused = run("people", "import", str(sheet))
    assert refused.returncode == 1
    assert "column roster: unknown roster 'siesta'" in refused.stderr
    pins = tmp_path / "pins.tsv"
    reset = run("people", "reset-pin", NEW1, "--pins-file", str(pins))
    assert reset.returncode == 0, reset.stderr
    assert pins.stat().st_mode & 0o777 == 0o600
    assert pins.read_text().splitlines()[1].startswith(f"{NEW1}\t")
