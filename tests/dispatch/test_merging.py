from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from config.policy import PolicyError, Priority, load_taxonomy
from dispatch.merging import MergePolicy, OpenIncident, Sighting, distance_m, find_match, lock_keys

T0 = datetime(2025, 7, 1, 8, 0, tzinfo=UTC)
POLICY = MergePolicy(radius_m=250, window=timedelta(minutes=30), never_merge=frozenset({"public_service"}))
SHIPPED = MergePolicy.load(taxonomy=load_taxonomy())
# one metre of latitude in degrees
M = 1 / 111_195
P3, P0 = Priority.P3, Priority.P0


def incident(
    iid: str,
    *,
    dlat_m: float = 0,
    problem: str = "manhole_cover_missing",
    minutes: int = 0,
    span: int = 0,
    priority: Priority = P3,
    lead: str = "区城市管理局",
) -> OpenIncident:
    first = T0 + timedelta(minutes=minutes)
    return OpenIncident(
        iid, problem, 106.45, 29.55 + dlat_m * M, first, first + timedelta(minutes=span), priority, lead
    )


def sighting(
    *,
    problem: str = "manhole_cover_missing",
    minutes: int = 0,
    priority: Priority = P3,
    lead: str = "区城市管理局",
) -> Sighting:
    return Sighting(problem, 106.45, 29.55, T0 + timedelta(minutes=minutes), priority, lead)


def test_shipped_policy_is_the_design_default() -> None:
    assert SHIPPED.radius_m == 250
    assert SHIPPED.window == timedelta(minutes=30)
    assert "public_service" in SHIPPED.never_merge
    assert SHIPPED.p0_across_agencies is False


def test_same_problem_close_and_recent_merges() -> None:
    assert find_match(sighting(minutes=10), [incident("a", dlat_m=200)], POLICY) is not None


@pytest.mark.parametrize(
    ("cand", "s"),
    [
        (incident("a", dlat_m=260), sighting()),  # too far
        (incident("a", problem="streetlight_out"), sighting()),  # same family, another problem
        (incident("a", minutes=0), sighting(minutes=31)),  # too late
        (incident("a", minutes=40), sighting(minutes=0)),  # too early
    ],
)
def test_no_match(cand: OpenIncident, s: Sighting) -> None:
    assert find_match(s, [cand], POLICY) is None


PUBLIC_FACILITIES = sorted(
    c.code for c in load_taxonomy().categories.values() if c.family == "public_facilities"
)


@pytest.mark.parametrize("a", PUBLIC_FACILITIES)
@pytest.mark.parametrize("b", PUBLIC_FACILITIES)
def test_within_a_family_only_declared_problems_merge(a: str, b: str) -> None:
    """A streetlight never joins a manhole case; 井盖缺失 and 井盖破损 are one problem."""
    merged = find_match(
        sighting(problem=SHIPPED.problem_of(a)), [incident("i", problem=SHIPPED.problem_of(b))], SHIPPED
    )
    manholes = {"manhole_cover_missing", "manhole_cover_damaged"}
    assert (merged is not None) == (a == b or {a, b} <= manholes)


def test_the_fight_is_one_problem_whatever_the_words() -> None:
    assert SHIPPED.problem_of("violent_crime") == SHIPPED.problem_of("public_disturbance")
    assert SHIPPED.problem_of("streetlight_out") == "streetlight_out"
    assert not SHIPPED.mergeable("public_service") and SHIPPED.mergeable("public_facilities")


def test_two_p0s_led_by_different_agencies_never_merge() -> None:
    police = incident("a", priority=P0, lead="区公安分局")
    assert find_match(sighting(priority=P0, lead="区消防救援支队"), [police], SHIPPED) is None
    assert find_match(sighting(priority=P0, lead="区公安分局"), [police], SHIPPED) is police
    # a P0 joining a lower-priority incident of its problem is not two P0s: it merges (and raises)
    assert find_match(sighting(priority=P0, lead="区消防救援支队"), [incident("b")], SHIPPED) is not None
    allowed = MergePolicy(250, timedelta(minutes=30), frozenset(), {}, p0_across_agencies=True)
    assert find_match(sighting(priority=P0, lead="区消防救援支队"), [police], allowed) is police


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('x = ["streetlight_out"]', "at least two"),
        ('x = ["streetlight_out", "ufo"]', "unknown category 'ufo'"),
        ('x = ["streetlight_out", "theft"]', "share a family"),
        (
            'x = ["streetlight_out", "facility_damaged"]\ny = ["facility_damaged", "manhole_cover_damaged"]',
            "already in",
        ),
    ],
)
def test_a_bad_problem_table_is_named(tmp_path: Path, table: str, message: str) -> None:
    path = tmp_path / "merging.toml"
    path.write_text(f'radius_m = 250\nwindow = "30min"\n[same_problem]\n{table}\n')
    with pytest.raises(PolicyError, match=message):
        MergePolicy.load(path, taxonomy=load_taxonomy())


def test_window_counts_from_the_latest_report_of_the_incident() -> None:
    long_running = incident("a", minutes=0, span=50)  # reports kept coming for 50 minutes
    assert find_match(sighting(minutes=75), [long_running], POLICY) is long_running


def test_nearest_wins_and_ties_go_to_the_older_incident() -> None:
    near, far = incident("near", dlat_m=50), incident("far", dlat_m=150)
    assert find_match(sighting(), [far, near], POLICY) is near
    older, newer = incident("z-older", dlat_m=100, minutes=-5), incident("a-newer", dlat_m=-100)
    assert find_match(sighting(), [newer, older], POLICY) is older
    assert find_match(sighting(), [older, newer], POLICY) is older


def test_distance_is_metric() -> None:
    assert distance_m(106.45, 29.55, 106.45, 29.55 + 250 * M) == pytest.approx(250, rel=1e-3)
    assert distance_m(106.45, 29.55, 106.45 + 0.01, 29.55) == pytest.approx(968, rel=0.01)
    assert POLICY.search_degrees * 111_000 * 0.87 > POLICY.radius_m  # the box covers the circle


@given(
    lon=st.floats(106.24, 106.50),
    lat=st.floats(29.49, 29.76),
    bearing=st.floats(0, 2 * math.pi),
    metres=st.floats(0, 250),
)
def test_reports_that_could_merge_always_share_a_lock(
    lon: float, lat: float, bearing: float, metres: float
) -> None:
    lon2 = lon + metres * math.cos(bearing) / (111_320 * math.cos(math.radians(lat)))
    lat2 = lat + metres * math.sin(bearing) / 111_195
    assume(distance_m(lon, lat, lon2, lat2) <= POLICY.radius_m)
    assert set(lock_keys("f", lon, lat, POLICY)) & set(lock_keys("f", lon2, lat2, POLICY))


def test_far_apart_or_other_family_reports_do_not_contend() -> None:
    near = set(lock_keys("f", 106.40, 29.60, POLICY))
    assert not near & set(lock_keys("f", 106.45, 29.60, POLICY))  # ~4.8 km away
    assert not near & set(lock_keys("g", 106.40, 29.60, POLICY))  # other family
    assert 1 <= len(near) <= 4
