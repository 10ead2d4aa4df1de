"""The volunteer transactions: register, claim, resolve and verify through the case lifecycle,
points credited on verification, redeem, fulfil.

A volunteer's resolution and its verification are case transitions (`volunteer_resolve`,
`verify_volunteer` / `fail_volunteer` by the grid worker, `verify` / `fail_verification` by an
operator), applied by `CaseFlows.transition`, so the case's events, clocks, outbox and
publishing are the lifecycle's as for any other action. `on_case_change` is the hook that
`CaseFlows` runs inside that transaction: it checks the claim under a row lock, and on
verification credits the points, so a case is never verified without its points being
credited, nor credited twice (each entry is keyed by the claim it pays for).

Concurrency: two claims of one task serialize on the offer's row lock (the second finds it
held); two redemptions of the last item serialize on the item's row lock (the second finds no
stock); a balance is read under the volunteer's row lock before an entry is posted.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime

from dispatch.cases.commands import Command
from dispatch.cases.flows import CaseFlows, Conn, Outcome
from dispatch.cases.work import CaseWork
from dispatch.lifecycle.case import Actor, CaseSnapshot
from dispatch.lifecycle.states import Action, CaseState, Role
from dispatch.volunteers import service as q
from dispatch.volunteers.errors import FieldError, NotFound, Refused
from dispatch.volunteers.ledger import Balance, Entry, EntryKind, post, reversal_of
from dispatch.volunteers.policy import VolunteerPolicy
from dispatch.volunteers.service import Item, Volunteer
from dispatch.volunteers.values import OfferStatus, VolunteerStatus, claim, resolve, settle

_PASS = frozenset({Action.VERIFY.value, Action.VERIFY_VOLUNTEER.value})
_FAIL = frozenset({Action.FAIL_VERIFICATION.value, Action.FAIL_VOLUNTEER.value})


class VolunteerFlows:
    """The volunteer flows of the API process, over the policy and the case flows."""

    def __init__(
        self,
        policy: VolunteerPolicy,
        cases: CaseFlows,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.policy = policy
        self.cases = cases
        self.clock = clock
        cases.hooks.append(self.on_case_change)

    # --- volunteers ---------------------------------------------------------------------
    async def register(
        self,
        conn: Conn,
        *,
        name: str,
        phone: str,
        community: str,
        skills: Sequence[str],
        pin_hash: str,
        approved_by: str | None = None,
    ) -> Volunteer:
        """Self-registration (pending until the community approves) or an import (active)."""
        if await q.street_of(conn, community) is None:
            raise FieldError("community_code", f"no community {community!r} in the district")
        status = VolunteerStatus.ACTIVE if approved_by else VolunteerStatus.PENDING
        v = Volunteer(
            f"v-{uuid.uuid4().hex[:12]}", name, phone, community, tuple(skills), status, 0, pin_hash
        )
        async with conn.transaction():
            if not await q.insert_volunteer(conn, v, at=self.clock(), approved_by=approved_by):
                raise Refused("this phone number is registered already")
        return v

    @staticmethod
    def in_scope(operator: Actor, community: str) -> bool:
        """Whether an operator answers for a community (`dispatch.scope`: a street operator
        their street's, a district operator their district's)."""
        return operator.scope.admits({"community_code": community})

    async def set_status(
        self, conn: Conn, volunteer_id: str, status: VolunteerStatus, operator: Actor
    ) -> Volunteer:
        """The community approves (active), pauses or removes (inactive) a volunteer."""
        async with conn.transaction():
            v = await q.volunteer(conn, volunteer_id, lock=True)
            if v is None or not self.in_scope(operator, v.community_code):
                raise NotFound(f"no volunteer {volunteer_id} in your scope")
            if status is VolunteerStatus.PENDING:
                raise FieldError("status", "a volunteer is approved (active) or paused (inactive)")
            await q.set_status(conn, volunteer_id, status, by=operator.actor_id, at=self.clock())
        return replace(v, status=status)

    async def active(self, conn: Conn, volunteer_id: str) -> Volunteer:
        v = await q.volunteer(conn, volunteer_id)
        if v is None or v.status is not VolunteerStatus.ACTIVE:
            raise Refused("your registration is not active: ask your community")
        return v

    # --- tasks --------------------------------------------------------------------------
    async def tasks(self, conn: Conn, v: Volunteer) -> list[q.Row]:
        return await q.open_tasks(
            conn,
            community=v.community_code,
            auto=self.policy.auto_offered(),
            priorities=sorted(self.policy.priorities),
            now=self.clock(),
            me=v.volunteer_id,
        )

    async def _facts(self, conn: Conn, incident_id: str, community: str | None) -> q.Row:
        facts = await q.case_facts(conn, incident_id)
        if facts is None or (community is not None and facts["community_code"] != community):
            raise NotFound(f"no task {incident_id} for your community")
        return facts

    async def hand(self, conn: Conn, incident_id: str, worker: Actor) -> q.Row:
        """The grid worker holding a case offers it to its community's volunteers."""
        now = self.clock()
        async with conn.transaction():
            facts = await q.case_facts(conn, incident_id)
            if facts is None or facts["assignee_id"] != worker.actor_id:
                raise NotFound(f"no task {incident_id} of yours")
            if facts["state"] not in q.CLAIMABLE or not facts["community_code"]:
                raise Refused(
                    f"the case is {facts['state']}: only a dispatched or accepted case is handed over"
                )
            if not self.policy.eligible(facts["category"], facts["priority"], handed=True):
                raise Refused(f"{facts['category']} ({facts['priority']}) is not work for volunteers")
            await q.ensure_offer(
                conn,
                incident_id,
                community=facts["community_code"],
                category=facts["category"],
                by=worker.actor_id,
                at=now,
            )
        view = await q.task_view(conn, incident_id, now, None)
        assert view is not None
        return view

    async def claim(self, conn: Conn, incident_id: str, v: Volunteer) -> q.Row:
        """Take a task: one holder at a time (the offer's row lock), until the claim lapses."""
        now = self.clock()
        async with conn.transaction():
            facts = await self._facts(conn, incident_id, v.community_code)
            if facts["state"] not in q.CLAIMABLE:
                raise Refused(f"the case is {facts['state']}: no longer offered")
            if self.policy.eligible(facts["category"], facts["priority"]):
                await q.ensure_offer(
                    conn,
                    incident_id,
                    community=v.community_code,
                    category=facts["category"],
                    by=q.POLICY,
                    at=now,
                )
            offer = await q.offer_of(conn, incident_id, lock=True)
            if offer is None or not self.policy.eligible(facts["category"], facts["priority"], handed=True):
                raise NotFound(f"no task {incident_id} for your community")
            await q.write_offer(
                conn, claim(offer, v.volunteer_id, v.community_code, now, self.policy.claim_lapse)
            )
        view = await q.task_view(conn, incident_id, now, v.volunteer_id)
        assert view is not None
        return view

    async def resolve(
        self,
        conn: Conn,
        incident_id: str,
        v: Volunteer,
        *,
        note: str,
        photos: Sequence[str],
        key: str | None = None,
    ) -> Outcome:
        """The holder says it is done, with a photo: the case's `volunteer_resolve`."""
        if not photos:
            raise FieldError("photos", "a volunteer's resolution needs at least one photo")
        await self._facts(conn, incident_id, v.community_code)
        offer = await q.offer_of(conn, incident_id)
        if offer is None:
            raise NotFound(f"no task {incident_id} for your community")
        resolve(offer, v.volunteer_id, self.clock())  # refuses early; the hook checks under the lock
        command = Command(
            Action.VOLUNTEER_RESOLVE, Actor(Role.VOLUNTEER, v.volunteer_id), note=note, photos=tuple(photos)
        )
        return await self.cases.transition(conn, incident_id, command, key=key)

    async def verify(
        self,
        conn: Conn,
        incident_id: str,
        actor: Actor,
        *,
        passed: bool,
        reason: str | None = None,
        key: str | None = None,
    ) -> Outcome:
        """The grid worker or an operator checks a volunteer's work (points on a pass)."""
        if actor.role is Role.GRID_WORKER:
            action = Action.VERIFY_VOLUNTEER if passed else Action.FAIL_VOLUNTEER
        else:
            action = Action.VERIFY if passed else Action.FAIL_VERIFICATION
        return await self.cases.transition(conn, incident_id, Command(action, actor, reason=reason), key=key)

    async def on_case_change(self, conn: Conn, work: CaseWork, before: CaseSnapshot) -> None:
        """The claim side of a case transition (see the module doc)."""
        for event in work.events:
            action = event["action"]
            if action == Action.VOLUNTEER_RESOLVE.value:
                await self._resolved(conn, work, event)
            elif (
                before.volunteer_id is not None
                and before.state is CaseState.RESOLVED
                and (action in _PASS or action in _FAIL)
            ):
                await self._settled(conn, work, event, passed=action in _PASS)

    async def _resolved(self, conn: Conn, work: CaseWork, event: q.Row) -> None:
        offer = await q.offer_of(conn, work.incident_id, lock=True)
        if offer is None:
            raise NotFound(f"no task {work.incident_id} for your community")
        done = resolve(offer, str(event["actor_id"]), work.now)
        resolve_clock = (event["data"].get("sla") or {}).get("resolve")
        on_time = resolve_clock is None or not resolve_clock["late"]
        await q.write_offer(conn, done, resolved_at=work.now, on_time=on_time)

    async def _settled(self, conn: Conn, work: CaseWork, event: q.Row, *, passed: bool) -> None:
        offer = await q.offer_of(conn, work.incident_id, lock=True)
        if offer is None or offer.status is not OfferStatus.RESOLVED:
            return  # resolved by a volunteer before the offers existed: nothing to settle
        await q.write_offer(
            conn, settle(offer, passed=passed), settled_at=work.now, settled_by=str(event["actor_id"])
        )
        if not passed or offer.holder is None:
            return
        category, on_time = await q.offer_facts(conn, work.incident_id)
        points, bonus = self.policy.points_for(category, on_time=bool(on_time))
        note = f"{category} {work.incident_id}"
        await self.post(
            conn, Entry(offer.holder, f"earn:{offer.claim_id}", EntryKind.EARN, points, work.now, note=note)
        )
        if bonus:
            await self.post(
                conn,
                Entry(offer.holder, f"bonus:{offer.claim_id}", EntryKind.BONUS, bonus, work.now, note=note),
            )

    # --- the ledger ---------------------------------------------------------------------
    async def post(self, conn: Conn, entry: Entry) -> bool:
        """Post one entry under the volunteer's row lock; False: its cause was posted before."""
        v = await q.volunteer(conn, entry.volunteer_id, lock=True)
        if v is None:
            raise NotFound(f"no volunteer {entry.volunteer_id}")
        causes = [entry.cause, *([entry.reverses] if entry.reverses else [])]
        known = await q.entries_by_cause(conn, causes)
        if any(e.cause == entry.cause for e in known):
            return False
        after, fresh = post(
            Balance(v.volunteer_id, v.balance, tuple(e for e in known if e.volunteer_id == v.volunteer_id)),
            entry,
        )
        if fresh:
            await q.append_entry(conn, entry, balance_after=after.points, community=v.community_code)
        return fresh

    async def reverse(self, conn: Conn, cause: str, operator: Actor, note: str) -> Entry:
        """Take an entry back with a reversal entry (points already spent cannot be)."""
        if not note.strip():
            raise FieldError("note", "a reversal says why")
        async with conn.transaction():
            found = await q.entries_by_cause(conn, [cause])
            if not found:
                raise NotFound(f"no entry {cause!r}")
            v = await q.volunteer(conn, found[0].volunteer_id)
            if v is None or not self.in_scope(operator, v.community_code):
                raise NotFound(f"no entry {cause!r} in your scope")
            back = reversal_of(found[0], at=self.clock(), note=f"{note.strip()} ({operator.actor_id})")
            await self.post(conn, back)
        return back

    # --- the catalogue and redemptions --------------------------------------------------
    async def seed_catalogue(self, conn: Conn) -> None:
        async with conn.transaction():
            for s in self.policy.catalogue:
                item = Item(s.code, None, s.zh, s.en, s.kind, s.cost, s.stock, s.partner, True)
                await q.seed_item(conn, item, at=self.clock())

    async def redeem(self, conn: Conn, v: Volunteer, item_id: str, request_id: str | None = None) -> q.Row:
        """Points and one unit of stock debited in one transaction; `request_id` makes a retry
        return the first answer instead of redeeming twice."""
        redemption_id = request_id or str(uuid.uuid4())
        now = self.clock()
        async with conn.transaction():
            earlier = await q.redemption(conn, redemption_id)
            if earlier is not None:
                if earlier["volunteer_id"] != v.volunteer_id or earlier["item_id"] != item_id:
                    raise FieldError("request_id", "already used for another redemption")
                return earlier
            item = await q.lock_item(conn, item_id)
            if item is None or not item.active or item.community_code not in (None, v.community_code):
                raise NotFound(f"no item {item_id} in your catalogue")
            if item.stock <= 0:
                raise Refused(f"{item.zh} is out of stock")
            entry = Entry(
                v.volunteer_id, f"redeem:{redemption_id}", EntryKind.REDEEM, -item.cost, now, note=item.zh
            )
            await self.post(conn, entry)
            await q.take_one(conn, item_id)
            await q.insert_redemption(conn, redemption_id, v.volunteer_id, item, now)
            done = await q.redemption(conn, redemption_id)
        assert done is not None
        return done

    async def fulfil(self, conn: Conn, redemption_id: str, partner_id: str) -> q.Row:
        """The partner hands the goods over (or did the service): the redemption is fulfilled."""
        async with conn.transaction():
            found = await q.redemption(conn, redemption_id, lock=True)
            if found is None or found["partner_id"] != partner_id:
                raise NotFound(f"no redemption {redemption_id} of yours")
            if found["status"] != "pending":
                raise Refused(f"the redemption is {found['status']} already")
            await q.mark_fulfilled(conn, redemption_id, self.clock())
            done = await q.redemption(conn, redemption_id)
        assert done is not None
        return done
