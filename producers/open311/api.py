"""Open311 GeoReport v2 over HTTP: discovery, services, POST and GET requests, JSON and XML.

    router = create_router(settings, publisher)           # mount under /open311/v2
    app.include_router(router, prefix="/open311/v2")

A POST body (urlencoded or multipart form, or a JSON object) is read by `bodies.fields`:
strict UTF-8, 413 over `MAX_BODY`, 415 for another media type, 400 for a body that does not
parse — all before the key is checked. A POST is then authenticated by its `api_key` (one
per agency, config/agencies.toml), mapped by `mapping.to_report` and published on the
agency's own `reports.<source>` topic; the answer comes only once the broker has
acknowledged it. A request that cannot be mapped is answered
400 with the field-naming reason and dead-lettered (stage `open311`, api_key removed).
Errors use Open311's format (`[{code, description}]`, or `<errors>` in XML) with 4xx codes.
Handlers read the raw request themselves, so the errors keep that format in whatever app
mounts the router; /openapi.json describes them from `openapi.py`. A query or path parameter
holding a control character is answered 400 naming it (schemas/text.py); form fields go
through the mapping, which names what it refuses and dead-letters it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy import create_engine
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from config.settings import Settings
from producers.errors import FieldError, PublishError
from producers.feed import Feeder
from producers.ledger import Ledger
from producers.open311 import openapi, services
from producers.open311.agencies import Directory, load_directory
from producers.open311.bodies import MAX_BODY, BodyError, check_media_type, fields
from producers.open311.mapping import raw_form, to_report
from producers.open311.render import FORMATS, error, respond
from producers.open311.store import RECEIVED_NOTE, ReceivedOnly, RequestLog, SharedRequestLog, StatusSource
from producers.outcome import Rejection
from producers.paths import ledger_path
from producers.publisher import Publisher
from producers.sources import load_sources
from schemas.dead_letter import Origin, Stage
from schemas.text import control_character, describe

MAX_SPAN = timedelta(days=90)


class Refusal(Exception):
    """An Open311 error answer (status + description), raised by the steps of a handler."""

    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.description = description


def _when(value: str | None, name: str) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise Refusal(
            400, f"{name}: {value[:40]!r} is not a W3C datetime (e.g. 2025-06-01T00:00:00Z)"
        ) from None
    if parsed.tzinfo is None:
        raise Refusal(400, f"{name}: needs a time zone (e.g. Z or +08:00)")
    return parsed.astimezone(UTC)


def _request_view(
    row: Mapping[str, Any], status: StatusSource, *, extensions: bool = False
) -> dict[str, Any]:
    """One request as GeoReport v2 shows it; the return visit in status_notes, and with
    `extensions` (GeoReport's `extensions=true`) as the extended attribute `return_visit`."""
    update = status.statuses([row["service_request_id"]]).get(row["service_request_id"])
    visit = update.return_visit if update else None
    notes = update.status_notes if update else RECEIVED_NOTE
    if visit is not None:
        notes = f"{notes}; {visit.note()}" if notes else visit.note()
    view = {
        "service_request_id": row["service_request_id"],
        "status": update.status if update else "open",
        "status_notes": notes,
        "service_name": row["service_name"],
        "service_code": row["service_code"],
        "description": row["description"],
        "agency_responsible": (update.agency_responsible if update else None) or row["agency_responsible"],
        "service_notice": None,
        "requested_datetime": row["requested_datetime"],
        "updated_datetime": update.updated_at.isoformat() if update else row["requested_datetime"],
        "expected_datetime": update.expected_at.isoformat() if update and update.expected_at else None,
        "address": row["address"],
        "address_id": None,
        "zipcode": None,
        "lat": row["lat"],
        "long": row["long"],
        "media_url": row["media_url"],
    }
    if extensions:
        view["extended_attributes"] = {"return_visit": visit.attribute() if visit else None}
    return view


def _extensions(query: Mapping[str, str]) -> bool:
    value = query.get("extensions", "false")
    if value not in ("true", "false"):
        raise Refusal(400, f"extensions: true or false, not {value[:20]!r}")
    return value == "true"


class Open311Intake:
    """The state behind the endpoints; each method returns data or raises `Refusal`."""

    def __init__(
        self,
        feeder: Feeder,
        directory: Directory,
        log: RequestLog | SharedRequestLog,
        status: StatusSource,
        *,
        private: frozenset[str] = frozenset(),
    ) -> None:
        self.feeder = feeder
        self.directory = directory
        self.log = log
        self.status = status
        self.private = private
        """Sources whose cases are never listed (config/sources.toml `public = false`)."""

    def listable(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [r for r in rows if r["source"] not in self.private]

    def check(self, fmt: str, request: Request) -> None:
        if fmt not in FORMATS:
            raise Refusal(404, f"format {fmt[:20]!r} is not supported: use .json or .xml")
        for name, value in [*request.path_params.items(), *request.query_params.multi_items()]:
            if (at := control_character(value)) is not None:
                raise Refusal(400, f"{name[:40]!r}: {describe(value, at)}")
        wanted = request.query_params.get("jurisdiction_id")
        if wanted and wanted != self.directory.jurisdiction_id:
            raise Refusal(
                404, f"jurisdiction_id {wanted[:40]!r} not found (this is {self.directory.jurisdiction_id})"
            )

    def definition(self, code: str) -> dict[str, Any]:
        if code not in self.feeder.taxonomy.categories:
            raise Refusal(404, f"service_code {code[:40]!r} not found")
        return services.definition(self.feeder.taxonomy, code)

    async def form(self, request: Request) -> dict[str, str]:
        """The POSTed fields, read within `MAX_BODY` (a declared or streamed excess is a 413)."""
        content_type = request.headers.get("content-type")
        try:
            check_media_type(content_type)
            declared = request.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > MAX_BODY:
                raise BodyError(413, f"the body is {declared} bytes: at most {MAX_BODY} are accepted")
            body = bytearray()
            async for chunk in request.stream():
                body += chunk
                if len(body) > MAX_BODY:
                    raise BodyError(
                        413, f"the body is over {MAX_BODY} bytes: at most {MAX_BODY} are accepted"
                    )
            return fields(content_type, bytes(body))
        except BodyError as exc:
            raise Refusal(exc.status, exc.description) from None

    async def accept(self, form: dict[str, str]) -> list[dict[str, Any]]:
        agency = self.directory.authenticate(form.get("api_key"))
        if agency is None:
            raise Refusal(403, "api_key is missing" if not form.get("api_key") else "api_key is not valid")
        ctx = self.feeder.context(agency.source, Origin(file="open311 POST /requests", record=agency.name))
        try:
            report = to_report(form, ctx)
        except FieldError as exc:
            rejection = Rejection(exc.field, exc.reason, raw_form(form), ctx.origin)
            try:
                await run_in_threadpool(
                    self.feeder.reject_now,
                    agency.source,
                    rejection,
                    received_at=ctx.received_at,
                    stage=Stage.OPEN311,
                )
            except PublishError:
                raise Refusal(
                    503, "the request was refused and could not be dead-lettered; try again"
                ) from None
            raise Refusal(400, exc.reason) from None
        try:
            fresh = await run_in_threadpool(self.feeder.publish_one, report)
        except PublishError:
            raise Refusal(503, "the request could not be stored; try again (it is safe to repeat)") from None
        category = self.feeder.taxonomy.categories[report.category]
        self.log.record(report, service_name=category.zh, agency=category.lead_department)
        notice = "received" if fresh else "already received: the same request was sent before"
        return [{"service_request_id": str(report.report_id), "service_notice": notice, "account_id": None}]

    def find(self, query: Mapping[str, str]) -> list[dict[str, Any]]:
        if ids := [i.strip() for i in query.get("service_request_id", "").split(",") if i.strip()]:
            rows = self.log.get(ids[:200])
        else:
            end = _when(query.get("end_date"), "end_date") or datetime.now(UTC)
            start = _when(query.get("start_date"), "start_date") or end - MAX_SPAN
            if end - start > MAX_SPAN or start > end:
                raise Refusal(400, "start_date..end_date must be ordered and span at most 90 days")
            codes = [c.strip() for c in query.get("service_code", "").split(",") if c.strip()]
            rows = self.log.search(codes=codes, start=start, end=end)
        extended = _extensions(query)
        views = [_request_view(r, self.status, extensions=extended) for r in self.listable(rows)]
        wanted = {s.strip() for s in query.get("status", "").split(",") if s.strip()}
        return [v for v in views if v["status"] in wanted] if wanted else views

    def one(self, request_id: str, query: Mapping[str, str]) -> list[dict[str, Any]]:
        rows = self.listable(self.log.get([request_id]))
        if not rows:
            raise Refusal(404, f"service_request_id {request_id[:60]!r} not found")
        return [_request_view(rows[0], self.status, extensions=_extensions(query))]


def create_router(
    settings: Settings,
    publisher: Publisher,
    *,
    directory: Directory | None = None,
    ledger: Ledger | None = None,
    log: RequestLog | SharedRequestLog | None = None,
    status: StatusSource | None = None,
) -> APIRouter:
    """The Open311 endpoints; `ledger` defaults to a file under settings.home, `log` to the
    request log in the settings' database (shared by every API host)."""
    intake = Open311Intake(
        Feeder(publisher, ledger or Ledger(ledger_path(settings))),
        directory or load_directory(),
        log or SharedRequestLog(create_engine(settings.db_url, pool_size=2, pool_pre_ping=True)),
        status or ReceivedOnly(),
        private=frozenset(s.value for s, c in load_sources().items() if not c.public),
    )
    router = APIRouter(tags=["open311"])

    @router.get("/discovery.{fmt}", openapi_extra=openapi.DISCOVERY_OP)
    async def discovery(request: Request) -> Response:
        fmt = request.path_params["fmt"]
        try:
            intake.check(fmt, request)
        except Refusal as r:
            return error(fmt, r.status, [r.description])
        base = str(request.url).split("/discovery.")[0]
        return respond(fmt, services.discovery(intake.directory, base), root="discovery")

    @router.get("/services.{fmt}", openapi_extra=openapi.SERVICES_OP)
    async def service_list(request: Request) -> Response:
        fmt = request.path_params["fmt"]
        try:
            intake.check(fmt, request)
        except Refusal as r:
            return error(fmt, r.status, [r.description])
        return respond(fmt, services.service_list(intake.feeder.taxonomy), root="services", item="service")

    @router.get("/services/{code}.{fmt}", openapi_extra=openapi.DEFINITION_OP)
    async def service_definition(request: Request) -> Response:
        code, fmt = request.path_params["code"], request.path_params["fmt"]
        try:
            intake.check(fmt, request)
            return respond(fmt, intake.definition(code), root="service_definition")
        except Refusal as r:
            return error(fmt, r.status, [r.description])

    @router.post("/requests.{fmt}", openapi_extra=openapi.POST_OP)
    async def post_request(request: Request) -> Response:
        fmt = request.path_params["fmt"]
        try:
            intake.check(fmt, request)
            body = await intake.accept(await intake.form(request))
        except Refusal as r:
            return error(fmt, r.status, [r.description])
        return respond(fmt, body, root="service_requests", item="request")

    @router.get("/requests.{fmt}", openapi_extra=openapi.SEARCH_OP)
    async def get_requests(request: Request) -> Response:
        fmt = request.path_params["fmt"]
        try:
            intake.check(fmt, request)
            return respond(fmt, intake.find(request.query_params), root="service_requests", item="request")
        except Refusal as r:
            return error(fmt, r.status, [r.description])

    @router.get("/requests/{request_id}.{fmt}", openapi_extra=openapi.ONE_OP)
    async def get_request(request: Request) -> Response:
        request_id, fmt = request.path_params["request_id"], request.path_params["fmt"]
        try:
            intake.check(fmt, request)
            return respond(
                fmt, intake.one(request_id, request.query_params), root="service_requests", item="request"
            )
        except Refusal as r:
            return error(fmt, r.status, [r.description])

    return router
