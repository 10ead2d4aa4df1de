"""Volunteers, offers and claims, catalogue items and redemptions; the pure claim rules.

An offer is a case put before one community's volunteers. Claiming makes one volunteer its
holder until `lapses_at`; a claim not resolved by then lapses and the offer is open again (no
sweep needed to see it: `open_at(now)` says so, and the claim statement tests the same
condition in SQL). Each claim raises the offer's `round`, so the points caused by one round's
verification can never be credited twice, and never for another round.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from dispatch.volunteers.errors import FieldError, Refused


class VolunteerStatus(StrEnum):
    PENDING = "pending"  # registered on the phone page, waiting for the community
    ACTIVE = "active"
    INACTIVE = "inactive"  # left, or paused by the community


class OfferStatus(StrEnum):
    OFFERED = "offered"  # open to the community's volunteers
    CLAIMED = "claimed"  # one volunteer holds it (until lapses_at)
    RESOLVED = "resolved"  # the holder says it is done, waiting for verification
    VERIFIED = "verified"  # points credited
    FAILED = "failed"  # verification failed: the case went back to its grid worker


class ItemKind(StrEnum):
    GOODS = "goods"
    HOME_SERVICE = "home_service"  # 上门服务
    VOUCHER = "voucher"


class RedemptionStatus(StrEnum):
    PENDING = "pending"  # points and stock debited, the partner has not handed it over yet
    FULFILLED = "fulfilled"


@dataclass(frozen=True, slots=True)
class Offer:
    incident_id: str
    community_code: str
    status: OfferStatus
    round: int = 0
    holder: str | None = None
    claimed_at: datetime | None = None
    lapses_at: datetime | None = None

    def open_at(self, now: datetime) -> bool:
        """Open to claim: never claimed, or the last claim lapsed unresolved."""
        if self.status is OfferStatus.OFFERED:
            return True
        return self.status is OfferStatus.CLAIMED and self.lapses_at is not None and self.lapses_at <= now

    def held_by(self, volunteer_id: str, now: datetime) -> bool:
        return (
            self.status is OfferStatus.CLAIMED
            and self.holder == volunteer_id
            and self.lapses_at is not None
            and now < self.lapses_at
        )

    @property
    def claim_id(self) -> str:
        """The claim's identity: the cause its points are credited under."""
        return f"{self.incident_id}:{self.round}"


def claim(offer: Offer, volunteer_id: str, community_code: str, now: datetime, lapse: timedelta) -> Offer:
    """The offer after `volunteer_id` claims it at `now`; refused unless it is open to them."""
    _aware(now)
    if community_code != offer.community_code:
        raise Refused("this task is offered to another community's volunteers")
    if not offer.open_at(now):
        if offer.held_by(volunteer_id, now):
            raise Refused("you already hold this task")
        raise Refused(f"the task is {offer.status} by another volunteer")
    return replace(
        offer,
        status=OfferStatus.CLAIMED,
        round=offer.round + 1,
        holder=volunteer_id,
        claimed_at=now,
        lapses_at=now + lapse,
    )


def resolve(offer: Offer, volunteer_id: str, now: datetime) -> Offer:
    """The offer once its holder resolves it; refused after the claim lapsed or for another."""
    _aware(now)
    if not offer.held_by(volunteer_id, now):
        if offer.status is OfferStatus.CLAIMED and offer.holder == volunteer_id:
            raise Refused("your claim lapsed: the task was offered again; claim it anew")
        raise Refused("you do not hold this task")
    return replace(offer, status=OfferStatus.RESOLVED)


def settle(offer: Offer, *, passed: bool) -> Offer:
    """The offer after the grid worker or an operator checked the holder's work."""
    if offer.status is not OfferStatus.RESOLVED:
        raise Refused(f"the task is {offer.status}, not resolved: nothing to verify")
    return replace(offer, status=OfferStatus.VERIFIED if passed else OfferStatus.FAILED)


def _aware(now: datetime) -> None:
    if now.tzinfo is None or now.utcoffset() is None:
        raise FieldError("now", "pass a timezone-aware datetime")
