"""Residents (/r): report a problem, follow it by its tracking code, rate the handling.

No account and no token: the caller is anonymous, and the tracking code is the only key to a
report (a wrong or unknown code answers 404, like a missing report). A report is the
resident adapter's document (through the port `dispatch.residents.ports.ResidentFeed`, which
the API's root fills from the feeds), checked like every feed's and
published to `reports.resident`; the intake places it and merges it with a report of the
same thing nearby, which the resident is told on the tracking page. Limits: reports per
device (the `X-Device` header, the page's random id) and per network address in a window
(config/residents.toml), counted on hashes only. Photos are uploaded first (`POST /r/photos`,
the worker's checks: JPEG/PNG/WebP by their bytes, 5 MB), limited per device and address in
the API process's memory, and named in the report by their keys. A published report is
also written to Open311's request log, so GET requests lists it like any request (with its
status and return visit).
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, File, Header, HTTPException, Query, Request, UploadFile
from starlette.concurrency import run_in_threadpool

from config.policy import load_taxonomy
from dispatch.api import photos as photo_store
from dispatch.api.answers import PHOTO_ERRORS, RESIDENT_ERRORS, PhotoStored
from dispatch.api.resident_models import (
    Categories,
    Category,
    District,
    Districts,
    Place,
    PlaceFound,
    Rated,
    Rating,
    Reason,
    Reasons,
    Received,
    ResidentReport,
    StepOut,
    Tracking,
)
from dispatch.api.state import ApiState, State
from dispatch.cases.documents import HEADERS
from dispatch.lifecycle.errors import DetailError
from dispatch.residents import service as q
from dispatch.residents.places import typed_point
from dispatch.residents.ports import ResidentFeed
from dispatch.residents.values import (
    Stage,
    TooMany,
    digest,
    load_resident_policy,
    new_code,
    source_ref_of,
    timeline,
)
from dispatch.revisits import service as visits
from dispatch.revisits.errors import NotFound
from dispatch.revisits.values import VisitStatus
from geo.gazetteer import CityAnswer
from schemas.report import encode

router = APIRouter(prefix="/r", tags=["residents"])
Device = Annotated[str, Header(alias="X-Device", min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]


def _feed(state: State) -> ResidentFeed:
    if state.residents is None:
        raise HTTPException(503, "this API takes no residents' reports")
    return state.residents


@router.get("/categories", responses={503: RESIDENT_ERRORS[503]})
async def categories(state: State) -> Categories:
    """The picker: the resident source's categories in the taxonomy's own words."""
    taxonomy = await run_in_threadpool(load_taxonomy)
    codes = await run_in_threadpool(_feed(state).categories)
    return Categories(
        items=[Category(code=c, zh=taxonomy.categories[c].zh, en=taxonomy.categories[c].en) for c in codes]
    )


@router.get("/reasons")
async def reasons(state: State) -> Reasons:
    """The reasons a resident may give for 不满意 (config/revisits.toml), in the policy's words."""
    if state.revisits is None:
        raise NotFound("return visits are not asked here")
    policy = state.revisits.policy
    return Reasons(
        items=[Reason(code=r.code, zh=r.zh, en=r.en, handling=r.handling) for r in policy.reasons.values()]
    )


def _address(request: Request) -> str:
    return digest(request.client.host if request.client else "unknown")


@router.post("/photos", status_code=201, responses={**RESIDENT_ERRORS, **PHOTO_ERRORS})
async def upload(
    request: Request,
    state: State,
    device: Device,
    photo: Annotated[UploadFile, File(description="JPEG, PNG or WebP, at most 5 MB")],
) -> PhotoStored:
    """Store a photo for a report (checked like a worker's); pass the key in the report's `photos`."""
    data = await photo.read(photo_store.MAX_BYTES + 1)
    photo_store.checked(data)
    policy = await run_in_threadpool(load_resident_policy)
    now = datetime.now(UTC)
    per_ip = policy.photos.reports * max(1, policy.ip.reports // policy.device.reports)
    uploads = state.resident_uploads
    if not uploads.take("ip:" + _address(request), now, allowed=per_ip):
        raise TooMany("too many photos from this network: please try again later")
    if not uploads.take("device:" + digest(device), now):
        raise TooMany("too many photos from this device: please try again later")
    async with state.pool.connection() as conn:
        key, kind = await photo_store.store(conn, data, now)
    return PhotoStored(key=key, media_type=kind.media_type, bytes=len(data))


@router.post("/reports", status_code=201, responses=RESIDENT_ERRORS)
async def submit(body: ResidentReport, request: Request, state: State, device: Device) -> Received:
    """Report a problem; answers the tracking code (shown once: it is not stored)."""
    if body.lon is None and not body.address:
        raise DetailError("location", "give the device's location (lon, lat) or an address")
    if (body.lon is None) != (body.lat is None):
        raise DetailError("lat" if body.lat is None else "lon", "lon and lat go together")
    for i, key in enumerate(body.photos):
        if not photo_store.KEY.match(key):
            raise DetailError(f"photos[{i}]", "not a key from POST /r/photos")
    now = datetime.now(UTC)
    lon, lat, accuracy_m = body.lon, body.lat, body.accuracy_m
    if lon is None and body.address:
        accuracy_m = None  # a building's point, or none: the intake looks the address up again
        if state.engine is not None:
            point = typed_point(await _looked_up(state, body.address, body.district, now))
            lon, lat = point if point is not None else (None, None)
    ref, code = new_code()
    doc: dict[str, object] = {
        "trackingCode": ref,
        "submittedAt": now.isoformat(),
        "category": body.category,
        "description": body.description,
        "lng": lon,
        "lat": lat,
        "accuracy": accuracy_m,
        "address": body.address,
        "placedBy": "device" if body.lon is not None else "gazetteer",
        "photos": body.photos or None,
        "contact": {"phone": body.phone} if body.phone else None,
    }
    feed = _feed(state)
    report = await run_in_threadpool(feed.adapt, {k: v for k, v in doc.items() if v is not None}, now)
    policy = await run_in_threadpool(load_resident_policy)
    device_hash = digest(device)
    ip_hash = _address(request)
    async with state.pool.connection() as conn, conn.transaction():
        per_device, per_ip = await q.recent(
            conn,
            device_hash=device_hash,
            ip_hash=ip_hash,
            since_device=now - policy.device.window,
            since_ip=now - policy.ip.window,
        )
        if per_device >= policy.device.reports or per_ip >= policy.ip.reports:
            raise TooMany("too many reports from this device or network: please try again later")
        await q.insert(
            conn,
            source_ref=ref,
            report_id=str(report.report_id),
            code_hash=digest(code),
            device_hash=device_hash,
            ip_hash=ip_hash,
            at=now,
        )
    try:
        sent = await state.flows.send(
            state.settings.topic("reports.resident"), ref.encode(), encode(report), HEADERS
        )
        await sent
    except Exception:
        async with state.pool.connection() as conn:
            await q.delete(conn, ref)
        raise HTTPException(503, "the report could not be sent: please try again") from None
    if state.engine is not None:  # listed by Open311's GET requests like any request
        await run_in_threadpool(feed.list_request, state.engine, report)
    return Received(code=code, reference=ref, stage=Stage.RECEIVED)


@router.get("/place", responses=RESIDENT_ERRORS)
async def place(
    request: Request,
    state: State,
    device: Device,
    *,
    lon: Annotated[float | None, Query(ge=-180, le=180)] = None,
    lat: Annotated[float | None, Query(ge=-90, le=90)] = None,
    address: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
    district: Annotated[
        str | None,
        Query(
            pattern=r"^\d{6}$",
            description="the page's district (行政区划代码): a bare address is looked up in its "
            "gazetteer; without it, in every district's (found when exactly one holds it)",
        ),
    ] = None,
) -> PlaceFound:
    """Where a WGS84 point (the device's location) or a typed address falls: its grid, community
    and street and the community's grids, to show on the form's map before sending. An address
    naming a district (its name, or a street or community only it has) is looked up there, and
    the answer says where it was found. Nothing about any case; limited per device and network
    address like the photos."""
    if lon is None and lat is None and not address:
        raise DetailError("location", "give the device's location (lon, lat) or an address")
    if (lon is None) != (lat is None):
        raise DetailError("lat" if lat is None else "lon", "lon and lat go together")
    policy = await run_in_threadpool(load_resident_policy)
    now = datetime.now(UTC)
    finder = state.resident_places
    per_ip = policy.lookups.reports * max(1, policy.ip.reports // policy.device.reports)
    if not finder.window.take("ip:" + _address(request), now, allowed=per_ip):
        raise TooMany("too many lookups from this network: please try again later")
    if not finder.window.take("device:" + digest(device), now):
        raise TooMany("too many lookups from this device: please try again later")
    found, how = None, None
    if lon is None or lat is None:
        if state.engine is None:
            raise NotFound("addresses are not looked up here")
        answer = await _looked_up(state, str(address), district, now)
        if answer.match is None:
            raise DetailError(
                "address",
                f"{answer.why}: try the road and house number (e.g. 小龙坎正街 10 号)",
                code="ambiguous" if answer.ambiguous else "not_found",  # the page words the refusal by it
            )
        lon, lat, found, how = answer.match.lon, answer.match.lat, answer.match.address, answer.why
    async with state.pool.connection() as conn:
        where = await q.place_at(conn, lon, lat)
    if where is None:
        raise DetailError("lat" if found is None else "address", "this place is outside the district's grids")
    return PlaceFound(
        **asdict(where),
        address=found,
        district_code=where.grid_code[:6] if where.grid_code else None,
        found=how,
    )


async def _looked_up(state: ApiState, address: str, district: str | None, now: datetime) -> CityAnswer:
    """A typed address in the resident's district's gazetteer (or the city's): `state.engine`
    must be set. A district that is not loaded here is refused naming `district`."""
    assert state.engine is not None
    try:
        return await run_in_threadpool(
            state.resident_places.address, state.engine, address, now=now, district=district
        )
    except ValueError as exc:
        raise DetailError("district", str(exc).removeprefix("district: ")) from None


@router.get("/districts", responses=RESIDENT_ERRORS)
async def districts(state: State) -> Districts:
    """The districts the form looks addresses up in (those of the place lookups' gazetteers):
    with several, the page asks the resident theirs and sends it with `GET /r/place`."""
    if state.engine is None:
        return Districts(items=[])
    city = await run_in_threadpool(state.resident_places.gazetteer, state.engine, now=datetime.now(UTC))
    return Districts(
        items=[District(code=code, name=city.names.districts[code].name) for code in city.district_codes]
    )


async def _holder(state: State, code: str) -> q.Submission:
    ref = source_ref_of(code)
    async with state.pool.connection() as conn:
        found = await q.submission(conn, ref) if ref else None
    if found is None or found.code_hash != digest(code):
        raise NotFound("no report with this code")
    return found


@router.get("/reports/{code}", responses=RESIDENT_ERRORS)
async def follow(code: str, state: State) -> Tracking:
    """The report's stages and times; whether it joined a case reported first; whether it may be rated."""
    mine = await _holder(state, code)
    async with state.pool.connection() as conn:
        case = await q.case_of(conn, mine.report_id)
        visit = await visits.latest_for_report(conn, mine.report_id)
        place = await q.place_of(conn, mine.report_id)
        cur = await conn.execute(
            "SELECT description, category FROM reports WHERE report_id = %s", (mine.report_id,)
        )
        row = await cur.fetchone()
    now = datetime.now(UTC)
    steps = timeline(mine.submitted_at, case.events if case else [])
    return Tracking(
        reference=mine.source_ref,
        category=str(row[1]) if row else "",
        description=str(row[0]) if row else None,
        joined=bool(case and case.joined),
        timeline=[StepOut(stage=s.stage, at=s.at) for s in steps],
        can_rate=visit is not None and visit.status_at(now) is VisitStatus.PENDING,
        rating=visit.answer if visit else None,
        visit=visit.status_at(now) if visit else None,
        place=Place(**asdict(place)) if place else None,
    )


@router.post("/reports/{code}/rating", responses=RESIDENT_ERRORS)
async def rate(code: str, body: Rating, state: State) -> Rated:
    """Answer the return visit of the report's last closing; 不满意 about the handling reopens it."""
    mine = await _holder(state, code)
    if state.revisits is None:
        raise NotFound("return visits are not asked here")
    async with state.pool.connection() as conn:
        visit = await visits.latest_for_report(conn, mine.report_id)
        if visit is None:
            raise NotFound("nothing to rate yet: the case is not closed")
        out = await state.revisits.answer(
            conn,
            visit.visit_id,
            body.answer,
            reason_code=body.reason_code,
            reason=body.reason,
            channel="resident",
        )
    return Rated(answer=body.answer, reopened=out.verdict.rework is not None, note=out.verdict.why)
