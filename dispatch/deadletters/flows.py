"""The dead-letter desk's edges: reading `reports.dlq`, replaying a letter, recording decisions.

Reading the topic and sending go through the desk's ports (`dispatch.deadletters.ports`),
filled by the process's composition root; the decisions are this module's own SQL.

Replay sends the letter's raw bytes the way they first came: a letter of the `adapter` stage
through its feed's adapter again (with the configuration as it is now, so a fixed category
map or time zone takes effect), one of the `intake` stage back onto `reports.<source>` for the
stream intake to check again, one of the `alerts` or `replies` stage back onto the topic its
agent read it from (`RETURN_TOPICS`: a CAP record the alerts agent could not read, a 12345
reply the hotline replies agent could not apply — a reply document is sent whole, its visits
already applied count once). A replay that fails the same way puts the same letter (same id)
on the topic again, which reopens it (dispatch.deadletters.desk). The other stages are not
replayed here (`NOT_REPLAYED` says why, per stage).
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from pydantic import ValidationError
from sqlalchemy import Connection, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert

from config.settings import Settings
from dispatch.deadletters.desk import Decided, Entry, unique
from dispatch.deadletters.models import DeadLetterDecisionRow, Decision
from dispatch.deadletters.places import LetterPlace, PlacedBy, by_address, named_place, unplaced, visible
from dispatch.deadletters.ports import AddressOfRecord, PointOfRecord, ReadToEnd, ReplayPorts
from dispatch.scope import Scope
from geo.gazetteer import CityNames, DistrictNames
from geo.service import district_names, in_force_by_district, list_versions
from schemas.cap_record import CAP_RECORD_SCHEMA, CAP_TOPIC
from schemas.dead_letter import DLQ_TOPIC, Origin, Stage, decode, raw_bytes
from schemas.report import Source

log = logging.getLogger(__name__)

RETURN_TOPICS: dict[Stage, tuple[str, tuple[tuple[str, bytes], ...]]] = {
    Stage.ALERTS: (CAP_TOPIC, (("schema", CAP_RECORD_SCHEMA.encode()),)),
    Stage.REPLIES: ("replies.hotline", ()),
}
"""The agents' topics a letter goes back onto (the name without the prefix, the headers)."""

NOT_REPLAYED: dict[Stage, str] = {
    Stage.OPEN311: "open311 letters were answered to the Open311 caller at the time of the POST",
    Stage.NOTICES: (
        "notices letters are dispatch.events records the notices agent could not read; "
        "the event itself stays on dispatch.events"
    ),
}


class DeskError(ValueError):
    """A desk request that cannot be carried out (unknown letter, no reason, not replayable)."""


def read_entries(settings: Settings, read_to_end: ReadToEnd) -> dict[uuid.UUID, Entry]:
    """Every dead letter on the topic (one entry per id), read to the topic's current end."""
    records = []
    skipped = 0
    for r in read_to_end(settings.topic(DLQ_TOPIC)):
        try:
            letter = decode(r.value)
        except ValidationError:
            skipped += 1
            continue
        records.append((letter, datetime.fromtimestamp(r.timestamp / 1000, UTC)))
    if skipped:
        log.warning("dlq: %d record(s) on %s are not dead letters v1; skipped", skipped, DLQ_TOPIC)
    return unique(records)


_DISTRICT_OF_POINTS = text(
    """
    SELECT p.n, min(d.code)
    FROM unnest(CAST(:lons AS float8[]), CAST(:lats AS float8[])) WITH ORDINALITY AS p(lon, lat, n)
    JOIN geo_district d ON d.version_id = ANY(CAST(:versions AS int[]))
     AND ST_Covers(d.geom, ST_SetSRID(ST_MakePoint(p.lon, p.lat), 4326))
    GROUP BY p.n
    """
)


OUTSIDE = "its point lies outside every district's outline in force: the city's only"


def districts_in_force(conn: Connection) -> list[DistrictNames]:
    """The districts whose layers are in force now, with their street and community names."""
    return district_names(conn, *_in_force_now(conn))


def _in_force_now(conn: Connection) -> list[int]:
    return [v.id for v in in_force_by_district(list_versions(conn), datetime.now(UTC))]


def letter_places(
    conn: Connection,
    entries: dict[uuid.UUID, Entry],
    point_of_record: PointOfRecord | None = None,
    address_of_record: AddressOfRecord | None = None,
) -> dict[uuid.UUID, LetterPlace]:
    """Each letter's district (`dispatch.deadletters.places`; None: the city's only) and why: a
    code its record names, the district whose outline in force holds its point (one query for
    all), or the district its address names for certain (the names of the layers in force)."""
    out: dict[uuid.UUID, LetterPlace] = {}
    points: list[tuple[uuid.UUID, tuple[float, float]]] = []
    addresses: list[tuple[uuid.UUID, str]] = []
    for dlq_id, entry in entries.items():
        place = named_place(entry.letter, point_of_record, address_of_record)
        if place is None:
            out[dlq_id] = unplaced(entry.letter)
        elif place.district is not None:
            out[dlq_id] = LetterPlace(
                place.district, f"its event names district {place.district}", PlacedBy.EVENT
            )
        elif place.point is not None:
            out[dlq_id] = LetterPlace(None, OUTSIDE, PlacedBy.OUTSIDE)
            points.append((dlq_id, place.point))
        elif place.address is not None:
            addresses.append((dlq_id, place.address))
    in_force = _in_force_now(conn) if points or addresses else []  # one read of the versions
    if points:
        found = conn.execute(
            _DISTRICT_OF_POINTS,
            {
                "lons": [p[0] for _, p in points],
                "lats": [p[1] for _, p in points],
                "versions": in_force,
            },
        )
        for n, code in found:
            out[points[int(n) - 1][0]] = LetterPlace(
                str(code), f"its point lies in district {code}", PlacedBy.POINT
            )
    if addresses:
        names = CityNames(district_names(conn, *in_force))
        for dlq_id, address in addresses:
            out[dlq_id] = by_address(address, names)
    return out


def scoped(
    conn: Connection,
    entries: dict[uuid.UUID, Entry],
    scope: Scope,
    point_of_record: PointOfRecord | None = None,
    address_of_record: AddressOfRecord | None = None,
) -> tuple[dict[uuid.UUID, Entry], dict[uuid.UUID, LetterPlace]]:
    """The letters an operator of `scope` sees and decides (the city operator: all of them), and
    where each of them was placed (or why it is the city's only)."""
    places = letter_places(conn, entries, point_of_record, address_of_record)
    mine = {i: e for i, e in entries.items() if visible(places[i].district, scope)}
    return mine, {i: places[i] for i in mine}


def decisions(conn: Connection) -> dict[uuid.UUID, Decided]:
    t = DeadLetterDecisionRow
    rows = conn.execute(select(t.dlq_id, t.decision, t.reason, t.actor, t.decided_at, t.outcome))
    return {r.dlq_id: Decided(r.decision, r.reason, r.actor, r.decided_at, r.outcome) for r in rows}


def record(
    conn: Connection, dlq_id: uuid.UUID, decision: Decision, *, reason: str, actor: str, outcome: str = ""
) -> None:
    if not reason.strip():
        raise DeskError("reason: required (say why, for whoever reads the record later)")
    stmt = pg_insert(DeadLetterDecisionRow).values(
        dlq_id=dlq_id, decision=decision.value, reason=reason.strip(), actor=actor, outcome=outcome,
        decided_at=datetime.now(UTC),
    )  # fmt: skip
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=[DeadLetterDecisionRow.dlq_id],
            set_={c: stmt.excluded[c] for c in ("decision", "reason", "actor", "outcome", "decided_at")},
        )
    )


@dataclass(frozen=True, slots=True)
class Replayed:
    ok: bool
    outcome: str  # for the operator and the decision record


def replay(entry: Entry, ports: ReplayPorts, *, timeout_s: float = 30.0) -> Replayed:
    """Send the letter's raw record through again and wait for the broker."""
    letter = entry.letter
    try:
        source = Source(letter.source)
    except ValueError:
        raise DeskError(f"source: {letter.source!r} is not a feed this system reads") from None
    raw = raw_bytes(letter)
    if letter.stage is Stage.ADAPTER:
        fed = ports.refeed(source, raw, Origin(record=f"replay of {letter.dlq_id}"), timeout_s=timeout_s)
        if fed.rejected:
            return Replayed(False, "rejected again: " + "; ".join(fed.rejected[:3]))
        if fed.unacknowledged:
            return Replayed(
                False, f"the broker did not acknowledge {fed.unacknowledged} report(s); try again"
            )
        return Replayed(
            True, f"adapter: {fed.published} report(s) published, {fed.duplicates} already published"
        )
    if letter.stage is Stage.INTAKE:
        key = (letter.source_ref or str(letter.dlq_id)).encode()
        topic = ports.send_report_record(source, raw, key=key, timeout_s=timeout_s)
        return Replayed(True, f"intake: sent back to {topic} to be checked again")
    if letter.stage in RETURN_TOPICS:
        name, headers = RETURN_TOPICS[letter.stage]
        key = (letter.source_ref or str(letter.dlq_id)).encode()
        topic = ports.send_record(name, raw, key=key, headers=headers, timeout_s=timeout_s)
        return Replayed(True, f"{letter.stage}: sent back to {topic} for its agent to read again")
    why = NOT_REPLAYED.get(letter.stage, f"{letter.stage} letters have no way back")
    raise DeskError(f"stage: {why}; they are not replayed")
