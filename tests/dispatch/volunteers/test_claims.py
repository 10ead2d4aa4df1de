"""Claims: one holder at a time, a lapse after which the task returns, a round per claim."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from dispatch.lifecycle.errors import NotYours
from dispatch.lifecycle.machine import apply
from dispatch.lifecycle.states import Action, CaseState, Role
from dispatch.sla.policy import SlaPolicy
from dispatch.volunteers.errors import FieldError, Refused
from dispatch.volunteers.values import Offer, OfferStatus, claim, resolve, settle
from tests.dispatch.helpers import ACTORS, sh, snapshot

LAPSE = timedelta(hours=2)
T0 = sh(2025, 3, 3, 10)


def _offer() -> Offer:
    return Offer("i-1", "500106001001", OfferStatus.OFFERED)


def test_one_holder_at_a_time_until_the_claim_lapses() -> None:
    held = claim(_offer(), "v-1", "500106001001", T0, LAPSE)
    assert (held.status, held.holder, held.round, held.lapses_at) == ("claimed", "v-1", 1, T0 + LAPSE)
    with pytest.raises(Refused, match="claimed by another"):
        claim(held, "v-2", "500106001001", T0 + LAPSE - timedelta(seconds=1), LAPSE)
    with pytest.raises(Refused, match="already hold"):
        claim(held, "v-1", "500106001001", T0, LAPSE)
    again = claim(held, "v-2", "500106001001", T0 + LAPSE, LAPSE)  # lapsed: the task returned
    assert (again.holder, again.round) == ("v-2", 2)
    assert again.claim_id != held.claim_id


def test_only_the_community_s_volunteers_may_claim() -> None:
    with pytest.raises(Refused, match="another community"):
        claim(_offer(), "v-9", "500106002001", T0, LAPSE)


def test_resolving_needs_a_live_claim_of_your_own() -> None:
    held = claim(_offer(), "v-1", "500106001001", T0, LAPSE)
    with pytest.raises(Refused, match="do not hold"):
        resolve(held, "v-2", T0)
    with pytest.raises(Refused, match="lapsed"):
        resolve(held, "v-1", T0 + LAPSE)
    done = resolve(held, "v-1", T0 + timedelta(minutes=30))
    assert done.status is OfferStatus.RESOLVED
    assert not done.open_at(T0 + 10 * LAPSE)  # a resolved task never lapses back
    assert settle(done, passed=True).status is OfferStatus.VERIFIED
    assert settle(done, passed=False).status is OfferStatus.FAILED
    with pytest.raises(Refused, match="nothing to verify"):
        settle(held, passed=True)


def test_naive_times_are_refused() -> None:
    with pytest.raises(FieldError, match="now"):
        claim(_offer(), "v-1", "500106001001", datetime(2025, 3, 3, 10), LAPSE)  # noqa: DTZ001


def test_a_grid_worker_checks_only_a_volunteer_s_resolution(sla: SlaPolicy) -> None:
    own = snapshot(CaseState.RESOLVED, volunteer_id=None)
    with pytest.raises(NotYours, match="no volunteer resolved"):
        apply(own, Action.VERIFY_VOLUNTEER, ACTORS[Role.GRID_WORKER], T0, extension_policy=sla.extension)
    done = apply(
        snapshot(CaseState.ACCEPTED),
        Action.VOLUNTEER_RESOLVE,
        ACTORS[Role.VOLUNTEER],
        T0,
        extension_policy=sla.extension,
    )
    assert (done.case.state, done.case.volunteer_id) == (CaseState.RESOLVED, "v-1")
    failed = apply(
        done.case,
        Action.FAIL_VOLUNTEER,
        ACTORS[Role.GRID_WORKER],
        T0,
        "bikes still there",
        extension_policy=sla.extension,
    )
    assert (failed.case.state, failed.case.volunteer_id, failed.case.reworks) == (CaseState.REWORK, None, 1)
