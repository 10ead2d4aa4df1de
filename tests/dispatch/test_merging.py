from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from dispatch.merging import MergePolicy, OpenIncident, Sighting, distance_m, find_match, lock_keys

T0 = datetime(2025, 7, 1, 8, 0, tzinfo=UTC)
POLICY = MergePolicy(radius_m=250, window=timedelta(minutes=30), never_merge=frozenset({"public_service"}))
# one metre of latitude in degrees
M = 1 / 111_195


def incident(
    iid: str, *, dlat_m: float = 0, family: str = "public_facilities", minutes: int = 0, span: int = 0
) -> OpenIncident:
    first = T0 + timedelta(minutes=minutes)
    return OpenIncident(iid, family, 106.45, 29.55 + dlat_m * M, first, first + timedelta(minutes=span))


def sighting(*, family: str = "public_facilities", minutes: int = 0) -> Sighting:
    return Sighting(family, 106.45, 29.55, T0 + timedelta(minutes=minutes))


def test_shipped_policy_is_the_design_default() -> None:
    policy = MergePolicy.load()
    assert policy.radius_m == 250
    assert policy.window == timedelta(minutes=30)
    assert "public_service" in policy.never_merge


def test_same_family_close_and_recent_merges() -> None:
    assert find_match(sighting(minutes=10), [incident("a", dlat_m=200)], POLICY) is not None


@pytest.mark.parametrize(
    ("cand", "s"),
    [
        (incident("a", dlat_m=260), sighting()),  # too far
        (incident("a", family="road_traffic"), sighting()),  # other family
        (incident("a", minutes=0), sighting(minutes=31)),  # too late
        (incident("a", minutes=40), sighting(minutes=0)),  # too early
        (incident("a"), sighting(family="public_service")),  # never merged
    ],
)
def test_no_match(cand: OpenIncident, s: Sighting) -> None:
    if s.family == "public_service":
        cand = OpenIncident(
            cand.incident_id, "public_service", cand.lon, cand.lat, cand.first_at, cand.last_at
        )
    assert find_match(s, [cand], POLICY) is None


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
