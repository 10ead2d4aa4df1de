"""What a CAP message does to a case: pure decisions, no I/O, `now` passed in.

- An Alert opens its case through the intake (its report); its row watches `<expires>`.
- An Update or a Cancel resolves its `references` to the report of the Alert the chain started
  with (any referenced message that already resolved will do), then to the case that report is
  in. An Update changes the case's priority, description and place in place; a Cancel withdraws
  it — unless other reports keep it open (a case several sources reported is theirs too).
- An alert past `<expires>` whose case was never dispatched closes as expired; one that was
  dispatched is left to its assignee (the warning lapsed, the work did not).
- Ack and Error are recorded only.
- An orphan — an Update or a Cancel none of whose referenced messages was ever seen (we started
  after its Alert, or the Alert was a dead letter) — is no reason to ignore a live warning: an
  orphan Update opens a case of its own from what it says the warning now is, as an Alert would,
  under the report id its chain's Alert has (`orphan_report`): that Alert arriving late joins the
  case instead of opening a second one, and a second orphan of the same chain updates it; an
  orphan Cancel has nothing to withdraw and is recorded. A referenced message of the same
  sender would have come first (`alerts.cap` is keyed by sender: one partition, in order), so
  such an orphan is known at once; one naming other senders waits `[life] orphan_after_s`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache

from pydantic import ValidationError

from config.policy import CONFIG_DIR, PolicyError, Priority, read_toml
from dispatch.alerts.models import AlertState
from dispatch.lifecycle.states import Action, CaseState
from schemas.cap_record import CapRecord, CapReference, MsgType
from schemas.report import Report, Source, report_id_for

WITHDRAWN_NOTE = "cancelled by the source"
EXPIRED_NOTE = "expired with nothing dispatched"
NOT_DISPATCHED = frozenset({CaseState.REPORTED, CaseState.REGISTERED})


@dataclass(frozen=True, slots=True)
class LifePolicy:
    unresolved_after: timedelta
    orphan_after: timedelta = timedelta(minutes=2)
    """How long an Update or Cancel naming other senders' messages waits for one of them."""


@cache
def life_policy() -> LifePolicy:
    path = CONFIG_DIR / "cap.toml"
    life = read_toml(path).get("life", {})
    found: list[timedelta] = []
    for key in ("unresolved_after_s", "orphan_after_s"):
        seconds = life.get(key)
        if not isinstance(seconds, int) or seconds <= 0:
            raise PolicyError(f"{path}: [life] needs {key}, a positive number of seconds")
        found.append(timedelta(seconds=seconds))
    return LifePolicy(*found)


def initial_state(record: CapRecord) -> AlertState:
    if record.msg_type in (MsgType.UPDATE, MsgType.CANCEL):
        return AlertState.PENDING
    if record.msg_type is MsgType.ALERT and record.expires is not None:
        return AlertState.ACTIVE
    return AlertState.RECORDED


def resolved_report(record: CapRecord, known: Mapping[tuple[str, str], str | None]) -> str | None:
    """The report the first resolvable reference leads to (`known`: (sender, identifier) → the
    report id stored on that message's row, None while it has none)."""
    for ref in record.references:
        found = known.get((ref.sender, ref.identifier))
        if found:
            return found
    return None


def orphaned(
    record: CapRecord, known: Mapping[tuple[str, str], str | None], now: datetime, policy: LifePolicy
) -> bool:
    """None of the messages an Update or a Cancel references was ever seen, nor will be: all of
    them are the record's own sender's (they would have arrived first), or it waited long enough.
    `known`: the referenced messages that have a row, whatever their report."""
    if record.msg_type not in (MsgType.UPDATE, MsgType.CANCEL) or known:
        return False
    own = all(ref.sender == record.sender for ref in record.references)
    return own or now - record.received_at > policy.orphan_after


def chain_report_id(record: CapRecord) -> str | None:
    """The id of the report the Alert at the start of the record's chain makes (the earliest
    message it references: the adapter publishes an Alert as the report of its identifier)."""
    first = _chain_start(record)
    return str(report_id_for(Source.EMERGENCY.value, first.identifier)) if first else None


def orphan_report(record: CapRecord) -> Report | None:
    """The report an orphan Update opens its case with: what the Update says the warning now is,
    under the id and reference of the report its chain's Alert makes (`chain_report_id`), so
    that Alert arriving late is the same report to the intake (known by its id) and its case is
    this one, not a second. None when the Update carries no report.
    """
    if record.report is None:
        return None
    own = Report.model_validate(record.report)
    first = _chain_start(record)
    if first is None:
        return own
    try:
        return Report.model_validate(
            {
                **own.model_dump(mode="json"),
                "report_id": str(report_id_for(own.source.value, first.identifier)),
                "source_ref": first.identifier,
            }
        )
    except ValidationError:  # an identifier the canonical report cannot carry: the Update's own
        return own


def _chain_start(record: CapRecord) -> CapReference | None:
    """The earliest message the record references (the first listed among equals)."""
    if not record.references:
        return None
    return min(enumerate(record.references), key=lambda r: (_sent(r[1].sent), r[0]))[1]


def _sent(text: str) -> datetime:
    """A reference's `sent` as a time to order by; unreadable ones come last."""
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        return datetime.max.replace(tzinfo=UTC)
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def orphan_note(record: CapRecord) -> str:
    """The reason an orphan carries: which references were never seen."""
    shown = " ".join(f"{r.sender},{r.identifier}" for r in record.references[:5])
    more = f" (+{len(record.references) - 5})" if len(record.references) > 5 else ""
    return f"CAP {record.msg_type.value} {record.identifier}: its references ({shown}{more}) were never seen"


def gives_up(record: CapRecord, now: datetime, policy: LifePolicy) -> bool:
    """An Update or Cancel waited long enough for a case that never came."""
    return now - record.received_at > policy.unresolved_after


@dataclass(frozen=True, slots=True)
class Withdrawal:
    """What a Cancel does: `action` on the case, or None when other reports keep it open."""

    action: Action | None
    reason: str


def withdrawal(record: CapRecord, *, report_count: int) -> Withdrawal:
    why = f"{WITHDRAWN_NOTE} (CAP Cancel {record.identifier})" + (f": {record.note}" if record.note else "")
    if report_count > 1:
        return Withdrawal(None, f"{why}; {report_count - 1} other report(s) keep the case open")
    return Withdrawal(Action.WITHDRAW, why)


def expiry(state: CaseState, *, report_count: int) -> Action | None:
    """The action an expired alert takes on its case: expire while nobody was dispatched and no
    other report shares the case."""
    return Action.EXPIRE if state in NOT_DISPATCHED and report_count == 1 else None


@dataclass(frozen=True, slots=True)
class Amendment:
    """An Update's changes to the incident row, and the event data that records them."""

    changes: dict[str, object]
    data: dict[str, object]
    raises_to: Priority | None  # the Update made the case more urgent: its clocks tighten


def point_of(record: CapRecord) -> tuple[float, float] | None:
    """The (lon, lat) an Update places the warning at, if it gives one."""
    location = record.location or {}
    lon, lat = location.get("lon"), location.get("lat")
    if isinstance(lon, int | float) and isinstance(lat, int | float):
        return float(lon), float(lat)
    return None


def amendment(record: CapRecord, incident: Mapping[str, object]) -> Amendment:
    changes: dict[str, object] = {}
    before: dict[str, object] = {}
    raises_to: Priority | None = None
    if record.priority is not None and record.priority.value != incident.get("priority"):
        old = Priority(str(incident["priority"]))
        before["priority"] = old.value
        changes["priority"] = record.priority.value
        if record.priority.rank < old.rank:
            raises_to = record.priority
    if record.description and record.description != incident.get("description"):
        before["description"] = incident.get("description")
        changes["description"] = record.description
    location = record.location or {}
    address = location.get("address")
    if address and address != incident.get("address"):
        before["address"] = incident.get("address")
        changes["address"] = address
    point = point_of(record)
    if point is not None:
        geom = f"SRID=4326;POINT({point[0]} {point[1]})"
        if geom != incident.get("geom"):
            before["geom"] = incident.get("geom")
            changes["geom"] = geom
    data: dict[str, object] = {
        "cap": {"identifier": record.identifier, "sender": record.sender, "msg_type": record.msg_type.value},
        "update": {"before": before, "after": changes, "area": location.get("area")},
    }
    return Amendment(changes, data, raises_to)
