"""Replays of simulated reports through the live rules: accounting, determinism, and the
differences a redrawn layout and a tighter limit must show."""

from __future__ import annotations

import csv
import hashlib
import io
import os
import shutil
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import orjson
import pytest
import shapely

from config.policy import CONFIG_DIR
from dispatch.replay.comparison import compare, desk_loads, moved, table, to_csv, worker_loads
from dispatch.replay.configuration import (
    Configuration,
    ReplayError,
    configuration,
    index_of,
    load_rules,
    policy_paths,
    read_layers,
)
from dispatch.replay.runner import run_both
from dispatch.replay.service_times import ServiceTimes
from dispatch.replay.simulation import Replay, RunOutcome, _Case
from dispatch.sla.escalation import next_check
from geo.layers import Feature
from geo.reference import ReferenceDistrict
from geo.service import reference_layers
from schemas.report_struct import ReportStruct
from tests.dispatch.replay.layouts import merged_community

GOLDEN = Path(__file__).with_name("golden")


def busiest_community(run: RunOutcome) -> str:
    by_community: Counter[str] = Counter()
    for grid in run.grid_of.values():
        if grid:
            by_community[grid[:12]] += 1
    return by_community.most_common(1)[0][0]


@pytest.fixture(scope="module")
def baseline(today: Configuration, times: ServiceTimes, week_reports: list[ReportStruct]) -> RunOutcome:
    return Replay(today, times).run(week_reports)


def test_every_report_is_accounted_for(baseline: RunOutcome, week_reports: list[ReportStruct]) -> None:
    r = baseline
    assert r.reports == len(week_reports) > 500
    assert r.failed == {}
    assert r.opened + r.merged == r.reports
    assert r.merged > 0 and r.opened > 0
    assert r.closed + r.open_at_end == r.opened
    assert r.closed > 0.9 * r.opened  # the worker model takes every dispatched case to closing
    assert sum(r.tasks_by_worker.values()) >= r.opened - r.never_dispatched
    assert r.opened - r.unplaced <= sum(r.incidents_by_grid.values()) <= r.opened
    assert r.clock_runs["accept"] >= r.closed
    assert r.escalations == sum(r.escalations_by_step.values())
    # force members and the ladder's desks share out every task, none counted twice
    assert sum(worker_loads(r)) + sum(desk_loads(r)) == sum(r.tasks_by_worker.values())
    assert r.desks and all("_center" in w or "community_lead" in w for w in r.desks)


def test_the_same_configuration_twice_shows_no_difference(
    today: Configuration, times: ServiceTimes, week_reports: list[ReportStruct], baseline: RunOutcome
) -> None:
    again = Replay(today, times).run(list(reversed(week_reports)))  # input order does not matter
    rows = compare(baseline, again)
    assert all(m.difference in (None, 0) or m.difference != m.difference for m in rows), table(rows)
    assert moved(baseline, again) == 0


class CheckedReplay(Replay):
    """A replay that holds each of its remembered next checks against the live `next_check`."""

    compared = 0

    def _next_check(self, case: _Case, now: datetime) -> datetime | None:
        remembered = super()._next_check(case, now)
        work = case.work
        live, _ = next_check(work.rules.policy, work.clocks, now, work.rules.tk)
        assert remembered == live, (case.key, now, work.clocks)
        self.compared += 1
        return remembered


def test_remembered_ladder_steps_give_the_live_next_check_and_the_same_run(
    today: Configuration, times: ServiceTimes, week_reports: list[ReportStruct], baseline: RunOutcome
) -> None:
    checked = CheckedReplay(today, times)
    again = checked.run(week_reports)
    assert checked.compared > 2 * baseline.opened
    assert again == baseline


@dataclass(frozen=True, slots=True)
class Pair:
    today: RunOutcome
    alternative: RunOutcome
    kept: str = ""
    gone: frozenset[str] = frozenset()
    progress: tuple[list[tuple[int, int]], ...] = ()


@pytest.fixture(scope="module")
def redrawn(
    reference: ReferenceDistrict,
    today: Configuration,
    times: ServiceTimes,
    week_reports: list[ReportStruct],
    baseline: RunOutcome,
) -> Pair:
    """Both runs, one after the other: today's, and the busiest community drawn as one grid."""
    community = busiest_community(baseline)
    layers, kept, gone = merged_community(reference, community)
    alt = configuration(
        "redrawn",
        rules=today.rules,
        index=index_of(layers),
        gazetteer=today.locator.gazetteer,
        directory=today.directory,
    )
    a, b = run_both((today, alt), times, week_reports, parallel=False)
    return Pair(a, b, kept, frozenset(gone))


@pytest.fixture(scope="module")
def tighter(
    tmp_path_factory: pytest.TempPathFactory,
    today: Configuration,
    times: ServiceTimes,
    week_reports: list[ReportStruct],
) -> Pair:
    """Both runs in two processes: today's, and P3's accept limit cut from 1 h to 5 min."""
    folder = tmp_path_factory.mktemp("tighter")
    text = (CONFIG_DIR / "sla.toml").read_text(encoding="utf-8")
    p3 = text.index("[priority.P3]")
    tightened = text[:p3] + text[p3:].replace('accept = "1h"', 'accept = "5min"', 1)
    assert tightened != text
    (folder / "sla.toml").write_text(tightened, encoding="utf-8")
    alt = configuration(
        "tighter",
        rules=load_rules(folder),
        index=today.locator.indexes.at(week_reports[0].received_at),
        gazetteer=today.locator.gazetteer,
        directory=today.directory,
    )
    progress: list[list[tuple[int, int]]] = []
    a, b = run_both((today, alt), times, week_reports, parallel=True, progress=progress.append)
    return Pair(a, b, progress=tuple(progress))


def test_a_redrawn_community_moves_exactly_its_reports(redrawn: Pair) -> None:
    a, b, kept, gone = redrawn.today, redrawn.alternative, redrawn.kept, redrawn.gone
    expected = sum(1 for g in a.grid_of.values() if g in gone)
    assert expected > 0
    assert moved(a, b) == expected
    assert len(b.grid_codes) == len(a.grid_codes) - len(gone)
    assert b.incidents_by_grid[kept] == a.incidents_by_grid[kept] + sum(a.incidents_by_grid[g] for g in gone)
    rows = {m.name: m for m in compare(a, b)}
    assert rows["reports in another grid than today"].alternative == expected
    assert rows["grids in the layer"].difference == -len(gone)
    assert rows["incidents per grid: max"].alternative >= rows["incidents per grid: max"].today  # type: ignore[operator]


def test_a_tighter_accept_limit_shows_fewer_on_time_and_more_escalations(
    tighter: Pair, week_reports: list[ReportStruct]
) -> None:
    a, b = tighter.today, tighter.alternative
    assert tighter.progress[-1] == [(len(week_reports), len(week_reports))] * 2
    rows = {m.name: m for m in compare(a, b)}
    accept = rows["on time: accept clock"]
    assert accept.alternative < accept.today  # type: ignore[operator]
    assert b.escalations > a.escalations
    assert b.reassigned >= a.reassigned
    assert moved(a, b) == 0
    out = list(csv.reader(io.StringIO(to_csv(list(rows.values())))))
    assert out[0] == ["metric", "today", "alternative", "difference"]
    by_name = {r[0]: r for r in out[1:]}
    assert float(by_name["escalation steps"][3]) == b.escalations - a.escalations


def details(run: RunOutcome) -> bytes:
    """Everything a run counted, per report, worker, grid, clock and step, in a stable order."""
    return orjson.dumps(
        {
            "label": run.label,
            "failed": run.failed,
            "grid_of": run.grid_of,
            "tasks_by_worker": dict(run.tasks_by_worker),
            "incidents_by_grid": dict(run.incidents_by_grid),
            "escalations_by_step": dict(run.escalations_by_step),
            "clock_runs": dict(run.clock_runs),
            "clock_late": dict(run.clock_late),
            "counts": [
                run.reports,
                run.opened,
                run.merged,
                run.unplaced,
                run.raised,
                run.escalations,
                run.reassigned,
                run.closed,
                run.closed_on_time,
                run.open_at_end,
                run.never_dispatched,
            ],
        },
        option=orjson.OPT_SORT_KEYS,
    )


@pytest.mark.parametrize("name", ["redrawn", "tighter"])
def test_the_fixed_week_replays_to_the_stored_csv_and_digest(
    name: str, request: pytest.FixtureRequest, baseline: RunOutcome
) -> None:
    """The results do not move when the replay's speed does: the week's two comparisons (one
    run after the other, and in two processes) give the stored CSV byte for byte, and every
    per-report, per-worker and per-grid figure behind it the stored digest. Written by the replay
    before its speed-ups (issue 22); a change that alters an outcome on purpose rewrites them
    (`REPLAY_GOLDEN=write`) and says why in its commit."""
    pair: Pair = request.getfixturevalue(name)
    assert pair.today == baseline  # either way of running gives today's run alone
    text = to_csv(compare(pair.today, pair.alternative))
    digest = hashlib.sha256(details(pair.today) + b"\n" + details(pair.alternative)).hexdigest()
    csv_path, digest_path = GOLDEN / f"week-{name}.csv", GOLDEN / f"week-{name}.sha256"
    if os.environ.get("REPLAY_GOLDEN") == "write":
        GOLDEN.mkdir(exist_ok=True)
        csv_path.write_text(text, encoding="utf-8")
        digest_path.write_text(digest + "\n", encoding="utf-8")
    assert text == csv_path.read_text(encoding="utf-8")
    assert digest == digest_path.read_text(encoding="utf-8").strip()


def test_a_district_override_in_the_policy_folder_runs_that_districts_cases_by_it(
    tmp_path: Path,
    today: Configuration,
    times: ServiceTimes,
    week_reports: list[ReportStruct],
    baseline: RunOutcome,
) -> None:
    """`--policy DIR` takes config/'s layout: its districts.toml overrides a district's policy."""
    (tmp_path / "districts.toml").write_text(
        (CONFIG_DIR / "districts.toml").read_text(encoding="utf-8")
        + '\n[district.500106.sla.priority.P3]\naccept = "5min"\n',
        encoding="utf-8",
    )
    rules = load_rules(tmp_path)
    assert rules.policy_of("500106").overrides == ("sla.priority.P3.accept",)
    alt = configuration(
        "沙坪坝 5 min",
        rules=rules,
        index=today.locator.indexes.at(week_reports[0].received_at),
        gazetteer=today.locator.gazetteer,
        directory=today.directory,
    )
    run = Replay(alt, times).run(week_reports)
    before, after = (r.clock_late["accept"] / r.clock_runs["accept"] for r in (baseline, run))
    assert after > before and run.escalations > baseline.escalations
    (tmp_path / "districts.toml").write_text('[district.500106.sla.priority.P3]\nacept = "5min"\n')
    with pytest.raises(
        ReplayError, match=r"districts\.toml: district\.500106\.sla\.priority\.P3\.acept: unknown"
    ):
        load_rules(tmp_path)


def test_a_policy_folder_names_what_it_cannot_use(tmp_path: Path) -> None:
    with pytest.raises(ReplayError, match=r"--policy: .* is not a folder"):
        policy_paths(tmp_path / "absent")
    with pytest.raises(ReplayError, match="holds none of"):
        policy_paths(tmp_path)
    (tmp_path / "sla.toml").write_text("[working_time]\n", encoding="utf-8")
    (tmp_path / "slas.toml").write_text("", encoding="utf-8")
    with pytest.raises(ReplayError, match=r"slas\.toml, which a replay does not read"):
        policy_paths(tmp_path)
    (tmp_path / "slas.toml").unlink()
    assert policy_paths(tmp_path)["sla.toml"] == tmp_path / "sla.toml"
    with pytest.raises(ReplayError, match=r"--policy: .*sla\.toml"):
        load_rules(tmp_path)
    shutil.copy(CONFIG_DIR / "sla.toml", tmp_path / "sla.toml")
    assert load_rules(tmp_path).sla is not None


def test_a_layer_file_that_is_not_geojson_or_leaves_a_gap_is_refused(
    tmp_path: Path, reference: ReferenceDistrict
) -> None:
    today = reference_layers(reference)
    bad = tmp_path / "bad.geojson"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(ReplayError, match=r"--layers: .* is not JSON"):
        read_layers(bad, today)
    grid: Feature = today.get("grid")[0]
    gap = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"layer": "grid", "code": grid.code, "name": grid.name, "parent": grid.parent},
                "geometry": shapely.geometry.mapping(grid.geometry.buffer(-0.001)),
            }
        ],
    }
    bad.write_bytes(orjson.dumps(gap))
    with pytest.raises(ReplayError, match="--layers: "):
        read_layers(bad, today)
