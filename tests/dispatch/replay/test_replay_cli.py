"""`yiwang replay` end to end: reports and people's steps made by the real intake and case flows
(real PostGIS and Kafka), replayed against a redrawn layout; the live tables and topics are
left exactly as they were; the HTML report renders its charts in Debian's Chromium."""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from kafka import KafkaConsumer, TopicPartition
from sqlalchemy import Engine, create_engine, text

from config.settings import Settings
from deploy.cli import main
from deploy.services.chromium import ensure_chromium
from dispatch.cases.commands import Command
from dispatch.lifecycle.case import Actor
from dispatch.lifecycle.states import Action, Role
from geo import service
from geo.reference import ReferenceDistrict
from tests.casework import WEDNESDAY_10, harness, report_in
from tests.conftest import own_topics_and_database
from tests.dispatch.replay.layouts import merged_community, write_grid_layer
from tests.dispatch.web.browser import open_page, shot

pytestmark = [pytest.mark.db, pytest.mark.kafka]
OPERATOR = Actor(Role.OPERATOR, "op-replay")


@dataclass(frozen=True, slots=True)
class Seeded:
    settings: Settings
    engine: Engine
    moved: int  # reports in the grids the redrawn layout takes away
    reports: int


@pytest.fixture(scope="module")
def seeded(services: Settings, reference: ReferenceDistrict) -> Iterator[Seeded]:
    with own_topics_and_database(services, "replay") as settings:
        engine = create_engine(settings.db_url)
        with engine.begin() as conn:
            service.load_reference_set(conn, reference)
        community = reference.grids[0].parent_code
        inside = [i for i, g in enumerate(reference.grids) if g.parent_code == community]
        _, _, gone = merged_community(reference, community)
        elsewhere = list(range(len(reference.grids)))[len(inside) + 20 :: 47][:14]
        picked = inside + elsewhere
        asyncio.run(_seed(settings, engine, reference, picked))
        moved = sum(1 for i in picked if reference.grids[i].code in gone)
        yield Seeded(settings, engine, moved, len(picked))
        engine.dispose()


async def _seed(settings: Settings, engine: Engine, d: ReferenceDistrict, grids: list[int]) -> None:
    """One report per grid on a Wednesday morning; each case accepted, resolved, verified, closed."""
    async with harness(settings, engine, now=WEDNESDAY_10) as h:
        for n, i in enumerate(grids):
            at = WEDNESDAY_10 + timedelta(minutes=3 * n)
            category = "exposed_garbage" if n % 2 else "manhole_cover_missing"
            (incident_id,) = await h.report([report_in(d, i, category=category, at=at)], at=at)
            cur = await h.conn.execute(
                "SELECT assignee_id FROM incidents WHERE incident_id = %s", (incident_id,)
            )
            row = await cur.fetchone()
            assert row is not None and row[0], f"grid {i}: the intake dispatched nobody"
            worker = Actor(Role.GRID_WORKER, row[0])
            steps = (
                (timedelta(minutes=4 + n % 9), Command(Action.ACCEPT, worker)),
                (timedelta(minutes=50 + 7 * n), Command(Action.RESOLVE, worker, note="已处理")),
                (timedelta(minutes=30), Command(Action.VERIFY, OPERATOR)),
                (timedelta(minutes=1), Command(Action.CLOSE, OPERATOR)),
            )
            h.now[0] = at
            for delay, command in steps:
                h.now[0] += delay
                await h.flows.transition(h.conn, incident_id, command)


def _row_counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        tables = conn.scalars(
            text("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
        ).all()
        return {t: int(conn.scalar(text(f'SELECT count(*) FROM "{t}"')) or 0) for t in tables}


def _end_offsets(settings: Settings) -> dict[str, int]:
    consumer = KafkaConsumer(bootstrap_servers=settings.bootstrap_servers)
    try:
        topics = [t for t in consumer.topics() if t.startswith(settings.topic_prefix)]
        parts = [TopicPartition(t, p) for t in topics for p in consumer.partitions_for_topic(t) or ()]
        return {f"{tp.topic}/{tp.partition}": off for tp, off in consumer.end_offsets(parts).items()}
    finally:
        consumer.close()


@pytest.fixture(scope="module")
def replayed(
    seeded: Seeded, reference: ReferenceDistrict, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[int, str, str, Path, dict[str, int], dict[str, int]]]:
    folder = tmp_path_factory.mktemp("replay")
    layers, _, _ = merged_community(reference, reference.grids[0].parent_code)
    layer_file = write_grid_layer(layers, folder / "redrawn.geojson")
    rows_before, offsets_before = _row_counts(seeded.engine), _end_offsets(seeded.settings)
    assert rows_before["reports"] == seeded.reports and sum(offsets_before.values()) > 0
    mp = pytest.MonkeyPatch()
    mp.setenv("YIWANG_PG_DATABASE", seeded.settings.pg_database)
    mp.setenv("YIWANG_TOPIC_PREFIX", seeded.settings.topic_prefix)
    if seeded.settings.database_url:
        mp.setenv("DATABASE_URL", seeded.settings.database_url)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(
            ["replay", "--from", "2026-11-25", "--to", "2026-11-26", "--layers", str(layer_file),
             "--out", str(folder / "week")]
        )  # fmt: skip
    mp.undo()
    rows_after, offsets_after = _row_counts(seeded.engine), _end_offsets(seeded.settings)
    assert rows_after == rows_before, "the replay changed a live table"
    assert offsets_after == offsets_before, "the replay produced to a live topic"
    yield code, out.getvalue(), err.getvalue(), folder, rows_before, offsets_before


def test_replay_prints_and_writes_the_differences(
    seeded: Seeded, replayed: tuple[int, str, str, Path, dict[str, int], dict[str, int]]
) -> None:
    code, out, err, folder, _, _ = replayed
    assert code == 0, out + err
    assert "reports in another grid than today" in out
    assert "[" in err and "100%" in err  # the progress bar
    with (folder / "week.csv").open(encoding="utf-8") as fh:
        rows = {r["metric"]: r for r in csv.DictReader(fh)}
    assert rows["reports replayed"]["today"] == rows["reports replayed"]["alternative"] == str(seeded.reports)
    assert rows["reports in another grid than today"]["alternative"] == str(seeded.moved)
    assert seeded.moved > 0
    assert int(rows["grids in the layer"]["difference"]) < 0
    assert rows["cases closed"]["today"] == str(seeded.reports)  # the measured steps close every case
    assert (folder / "week.html").stat().st_size > 100_000  # chart.js is inlined


def test_replay_refuses_a_window_without_reports_or_an_empty_alternative(
    seeded: Seeded, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("YIWANG_PG_DATABASE", seeded.settings.pg_database)
    assert main(["replay", "--from", "2026-11-25", "--to", "2026-11-26"]) == 2
    assert "nothing to compare" in capsys.readouterr().err
    assert main(["replay", "--from", "2026-10-01", "--to", "2026-10-02", "--policy", "config"]) == 2
    assert "no measured accept or resolve delays" in capsys.readouterr().err


def test_the_html_report_draws_its_charts_in_chromium(
    base_settings: Settings,
    replayed: tuple[int, str, str, Path, dict[str, int], dict[str, int]],
    tmp_path: Path,
) -> None:
    _, _, _, folder, _, _ = replayed
    with open_page(ensure_chromium(base_settings), tmp_path / "profile") as (page, errors):
        page.goto((folder / "week.html").as_uri())
        page.wait_for_selector("body[data-ready=yes]")
        drawn = page.evaluate(
            """() => [...document.querySelectorAll('canvas')].map(c => {
                const px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                let ink = 0; for (let i = 3; i < px.length; i += 4) if (px[i]) ink++;
                return ink; })"""
        )
        assert len(drawn) == 4 and all(n > 500 for n in drawn), drawn
        assert page.locator("#comparison tbody tr").count() > 20
        assert "reports in another grid than today" in page.inner_text("#comparison")
        shot(page, "replay-report", full_page=True)
        assert errors == []
