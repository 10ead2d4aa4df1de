"""Pure pieces of the case flows and the API edge: lights, documents, masking, tokens, hashes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import orjson
import pytest

from config.settings import Settings
from dispatch.api.accounts import hash_secret, verify_secret
from dispatch.api.auth import ApiRole, AuthError, Principal, issue_token, read_token
from dispatch.api.views import mask_email, mask_name, mask_phone, masked_reporter
from dispatch.cases.documents import messages
from dispatch.cases.work import light_of, point_of
from dispatch.models import Light
from dispatch.sla.calendar import ClockKind
from dispatch.sla.clocks import ClockName, ClockState
from dispatch.sla.ladder import EscalationPolicy
from tests.dispatch.helpers import sh


def _clock(name: ClockName, steps: int) -> ClockState:
    clock = ClockState.start(name, ClockKind.NATURAL, timedelta(minutes=15), sh(2025, 3, 3, 9))
    for i in range(steps):
        clock = clock.after_step(i)
    return clock


def test_the_light_follows_the_steps_taken_on_open_clocks(escalation: EscalationPolicy) -> None:
    assert light_of(escalation, [_clock(ClockName.ACCEPT, 0)]) is Light.GREEN
    assert light_of(escalation, [_clock(ClockName.ACCEPT, 1)]) is Light.YELLOW
    assert light_of(escalation, [_clock(ClockName.ACCEPT, 1), _clock(ClockName.RESOLVE, 2)]) is Light.RED
    assert light_of(escalation, [_clock(ClockName.REGISTER, 1)]) is Light.RED  # its first step is at 100 %


def test_points_come_from_ewkt() -> None:
    assert point_of("SRID=4326;POINT(106.45 29.55)") == (106.45, 29.55)
    assert point_of(None) == (None, None)


def test_feedback_goes_to_every_original_report() -> None:
    event = {
        "incident_id": "i-1",
        "sequence": 9,
        "action": "close",
        "at": "2025-03-03T02:00:00+00:00",
        "reason": "done",
        "data": {"on_time": True},
        "grid_code": "500106001001001",
    }
    incident = {"incident_id": "i-1", "grid_code": "500106001001001"}
    task = {"incident_id": "i-1", "notes": "fixed", "created_at": "2025-03-03T01:00:00+00:00"}
    reports = {
        "i-1": [
            {"report_id": "r-1", "source": "hotline", "source_ref": "H-1"},
            {"report_id": "r-2", "source": "police", "source_ref": "P-7"},
        ]
    }
    out = messages([incident], [task], [event], reports)
    topics = [m.topic for m in out]
    assert topics == ["incidents", "dispatch.tasks", "dispatch.events", "feedback.hotline", "feedback.police"]
    police = orjson.loads(out[-1].value)
    assert out[-1].key == b"P-7" and out[0].key == b"500106001001001"
    assert police == {
        "source": "police",
        "source_ref": "P-7",
        "report_id": "r-2",
        "incident_id": "i-1",
        "event_id": "i-1:9",
        "outcome": "closed",
        "closed_at": "2025-03-03T02:00:00+00:00",
        "note": "done",
        "resolution": "fixed",
        "on_time": True,
    }


@pytest.mark.parametrize(
    ("given", "masked"),
    [("张三丰", "张**"), ("李", "李*"), ("", ""), (None, None)],
)
def test_names_are_masked(given: str | None, masked: str | None) -> None:
    assert mask_name(given) == masked


def test_contact_details_are_masked() -> None:
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("110") == "***"
    assert mask_email("zhou@example.cn") == "z***@example.cn"
    assert masked_reporter({"name": "周某", "phone": "13600000099", "account": "A-1"}) == {
        "name": "周*",
        "phone": "136****0099",
        "email": None,
        "anonymous": False,
    }


def test_tokens_round_trip_and_refuse_forgery_and_expiry() -> None:
    settings = Settings(jwt_secret="a-test-secret-that-is-long-enough-0123456789")
    op = Principal(ApiRole.OPERATOR, "op-1", "500106001")
    assert read_token(settings, issue_token(settings, op)) == op
    worker = Principal(ApiRole.GRID_WORKER, "w-1")
    assert read_token(settings, issue_token(settings, worker)) == worker
    forged = issue_token(settings.model_copy(update={"jwt_secret": "x" * 40}), op)
    with pytest.raises(AuthError, match="invalid token"):
        read_token(settings, forged)
    old = issue_token(settings, op, ttl=timedelta(minutes=1), now=datetime.now(UTC) - timedelta(hours=1))
    with pytest.raises(AuthError, match="expired"):
        read_token(settings, old)


def test_secrets_are_stored_as_salted_scrypt() -> None:
    stored = hash_secret("1234")
    assert stored.startswith("scrypt$") and "1234" not in stored
    assert hash_secret("1234") != stored  # salted
    assert verify_secret("1234", stored) and not verify_secret("1235", stored)
    assert not verify_secret("1234", "plain-1234")
