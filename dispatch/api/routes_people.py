"""People for district operators: import a roster sheet, export it, reset a PIN, record shift
exceptions; and for every operator (in their street), who is on duty now in a grid or community.
A district operator imports, exports and manages their district's people only (a sheet row naming
another district's area or person is refused naming its row and column; another district's
person is unknown); the city operator (城市运行管理中心) everyone.

The import answers 422 with every problem (sheet, row, column) and writes nothing, or 200
with what was added, changed and deactivated and the new people's PINs, shown this once.
After a change the API's own directory is reloaded; the stream workers pick it up within
their refresh interval (dispatch/directory.py).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, File, Path, Query, UploadFile
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field, model_validator
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool

from dispatch.api.answers import ERRORS, Invalid
from dispatch.api.errors import NotFound, problem
from dispatch.api.state import DistrictOperator, Forbidden, Operator, State
from dispatch.cases.boot import load_people
from dispatch.directory import Directory
from dispatch.people.imports import ImportOutcome, import_rows, on_duty_in
from dispatch.people.sheet import SheetError, read_roster_bytes, write_roster
from dispatch.people.sql import (
    PeopleError,
    add_exception,
    export_rows,
    list_exceptions,
    remove_exception,
    reset_pin,
)
from dispatch.routing.rosters import ExceptionKind, RosterException
from dispatch.scope import Scope

PG_INT = 2**31 - 1  # roster_exceptions.id is an integer column
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

router = APIRouter(prefix="/people", tags=["people", "operator"], responses=ERRORS)
MAX_SHEET_BYTES = 20 * 1024 * 1024
WORKER_ID = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
AREA_CODE = r"^[0-9]{9,15}$"


class ProblemOut(BaseModel):
    sheet: str
    row: int
    column: str
    message: str


class ImportOut(BaseModel):
    rows: int
    written: bool
    added: list[str] = []
    changed: list[str] = []
    deactivated: list[str] = []
    pins: dict[str, str] = Field(default={}, description="new people's PINs: shown this once, stored hashed")


class ImportRefused(BaseModel):
    detail: str
    code: Literal["sheet_refused"] = "sheet_refused"
    field: Literal["file"] = "file"
    problems: list[ProblemOut] = Field(description="every problem: its sheet, row, column (the field)")


class PinOut(BaseModel):
    worker_id: str
    pin: str


class ExceptionIn(BaseModel):
    kind: ExceptionKind
    worker_id: str = Field(pattern=WORKER_ID)
    other_id: str | None = Field(default=None, pattern=WORKER_ID)
    first_day: date
    last_day: date | None = None
    note: str = Field(default="", max_length=500)

    @model_validator(mode="after")
    def _valid(self) -> ExceptionIn:
        self.exception()  # PolicyError (a ValueError) names the field
        return self

    def exception(self) -> RosterException:
        return RosterException(
            self.kind, self.worker_id, self.first_day, self.last_day or self.first_day, self.other_id
        )


class ExceptionOut(BaseModel):
    id: int
    kind: str
    worker_id: str
    other_id: str | None
    first_day: date
    last_day: date
    note: str
    created_by: str


class OnDutyOut(BaseModel):
    worker_id: str
    role: str
    roster: str  # the regular roster, or _on_duty when a dated exception puts them on


def _engine(state: State) -> Engine:
    if state.engine is None:
        raise NotFound("no database engine in this process")
    return state.engine


async def _reload(state: State) -> None:
    state.flows.people = await run_in_threadpool(load_people, _engine(state), state.flows.rules.taxonomy)


def _import(engine: Engine, name: str, data: bytes, write: bool, within: Scope) -> ImportOutcome:
    rows = read_roster_bytes(name, data)
    with engine.begin() as conn:
        return import_rows(conn, rows, write=write, within=within)


@router.post("/import", response_model=ImportOut, responses={422: {"model": ImportRefused | Invalid}})
async def import_sheet(
    caller: DistrictOperator,
    state: State,
    file: Annotated[UploadFile, File(description="the roster: .xlsx or .csv, the export's columns")],
    check: Annotated[bool, Query(description="only check; write nothing")] = False,
) -> Response | ImportOut:
    data = await file.read(MAX_SHEET_BYTES + 1)
    if len(data) > MAX_SHEET_BYTES:
        return problem(413, "too_large", f"larger than {MAX_SHEET_BYTES} bytes", field="file")
    try:
        outcome = await run_in_threadpool(
            _import, _engine(state), file.filename or "roster.xlsx", data, not check, caller.scope
        )
    except (SheetError, PeopleError) as exc:
        return problem(422, "invalid", str(exc), field="file", problems=[])
    if outcome.problems:
        body = ImportRefused(
            detail=outcome.lines()[0],
            code="sheet_refused",
            problems=[
                ProblemOut(sheet=p.sheet, row=p.row, column=p.column, message=p.message)
                for p in outcome.problems
            ],
        )
        return JSONResponse(body.model_dump(), status_code=422)
    result = outcome.result
    if result is None:
        return ImportOut(rows=outcome.rows, written=False)
    await _reload(state)
    return ImportOut(
        rows=outcome.rows,
        written=True,
        added=result.added,
        changed=result.changed,
        deactivated=result.deactivated,
        pins=result.pins,
    )


@router.get(
    "/export",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}, XLSX: {}}, "description": "the roster sheet"}},
)
async def export_sheet(
    caller: DistrictOperator,
    state: State,
    format: Literal["xlsx", "csv"] = "xlsx",
    scope: Annotated[str | None, Query(pattern=AREA_CODE, description="one community or street")] = None,
) -> Response:
    """The active roster in the import's format (edit it, import it back), of the operator's
    district (the city operator: every district's); another district's area is 403."""
    if scope is not None and not caller.scope.covers(scope):
        raise Forbidden(f"operator {caller.subject} sees {caller.scope.describe()} only")

    def rows() -> list[tuple[object, ...]]:
        with _engine(state).connect() as conn:
            return export_rows(conn, scope=scope, within=caller.scope)

    name = f"roster-{scope or 'district'}.{format}"
    data = write_roster(name, await run_in_threadpool(rows))
    media = "text/csv; charset=utf-8" if format == "csv" else XLSX
    return Response(data, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.post("/{worker_id}/reset-pin", response_model=PinOut)
async def new_pin(caller: DistrictOperator, state: State, worker_id: str) -> PinOut:
    """A new PIN for an active person of your district (another district's person: 404)."""

    def reset() -> str:
        with _engine(state).begin() as conn:
            return reset_pin(conn, worker_id, within=caller.scope)

    try:
        pin = await run_in_threadpool(reset)
    except PeopleError:
        raise NotFound(f"no active person {worker_id}") from None
    return PinOut(worker_id=worker_id, pin=pin)


@router.get("/exceptions", response_model=list[ExceptionOut])
async def exceptions(caller: DistrictOperator, state: State, since: date | None = None) -> list[ExceptionOut]:
    """The shift exceptions of your district's people (the city operator: everyone's)."""

    def read() -> list[ExceptionOut]:
        with _engine(state).connect() as conn:
            since_day = since or datetime.now(UTC).date() - timedelta(days=1)
            rows = list_exceptions(conn, since=since_day, within=caller.scope)
        return [
            ExceptionOut(
                id=r.id,
                kind=r.kind,
                worker_id=r.worker_id,
                other_id=r.other_id,
                first_day=r.first_day,
                last_day=r.last_day,
                note=r.note,
                created_by=r.created_by,
            )
            for r in rows
        ]

    return await run_in_threadpool(read)


@router.post("/exceptions", status_code=201, response_model=ExceptionOut)
async def record_exception(
    caller: DistrictOperator, state: State, body: ExceptionIn
) -> Response | ExceptionOut:
    exc = body.exception()

    def write() -> int:
        with _engine(state).begin() as conn:
            return add_exception(conn, exc, by=caller.subject, note=body.note, within=caller.scope)

    try:
        ident = await run_in_threadpool(write)
    except PeopleError as err:  # unknown, inactive, or of another district: told apart by nobody
        return problem(422, "unknown_worker", str(err), field="worker_id")
    await _reload(state)
    return ExceptionOut(
        id=ident,
        kind=exc.kind.value,
        worker_id=exc.worker_id,
        other_id=exc.other_id,
        first_day=exc.first_day,
        last_day=exc.last_day,
        note=body.note,
        created_by=caller.subject,
    )


@router.delete("/exceptions/{exception_id}", status_code=204)
async def delete_exception(
    caller: DistrictOperator, state: State, exception_id: Annotated[int, Path(ge=1, le=PG_INT)]
) -> Response:
    def remove() -> bool:
        with _engine(state).begin() as conn:
            return remove_exception(conn, exception_id, within=caller.scope)

    if not await run_in_threadpool(remove):
        raise NotFound(f"no exception #{exception_id}")
    await _reload(state)
    return Response(status_code=204)


@router.get("/on-duty", response_model=list[OnDutyOut])
async def on_duty(
    caller: Operator,
    state: State,
    grid: Annotated[str | None, Query(pattern=r"^[0-9]{15}$")] = None,
    community: Annotated[str | None, Query(pattern=r"^[0-9]{12}$")] = None,
    at: datetime | None = None,
) -> Response | list[OnDutyOut]:
    """Who is on shift in a grid (its grid-level members) or a community (its community-level
    members and lead) now or `at`, dated exceptions applied. In the operator's scope only."""
    area = grid or community
    if area is None or (grid and community):
        return problem(422, "required", "give one of grid or community", field="grid")
    if not caller.scope.covers(area):
        raise Forbidden(f"operator {caller.subject} sees {caller.scope.describe()} only")
    when = at or datetime.now(UTC)
    if when.tzinfo is None:
        return problem(422, "needs_timezone", "at: give an offset", field="at")

    def load() -> Directory:
        with _engine(state).connect() as conn:
            return Directory.load(conn)

    directory = await run_in_threadpool(load)
    people = on_duty_in(directory, when, state.flows.rules.tk.working, grid=grid, community=community)
    return [OnDutyOut(worker_id=c.worker_id, role=c.role, roster=c.roster) for c in people]
