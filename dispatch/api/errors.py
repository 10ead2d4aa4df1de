"""Domain errors to HTTP, at the edge only. Bodies are {"detail": …} plus what names the cause.

- IllegalTransition → 409 with state, action and role;
- NotYours, CaseNotFound, NotFound → 404: out of scope looks exactly like absent (nothing leaks);
- DetailError → 422 naming the field; KeyReused → 422 naming the Idempotency-Key header;
- AuthError → 401; Forbidden (wrong role) → 403;
- PhotoError → 413 too large, 415 not a JPEG/PNG/WebP, 422 otherwise, naming the field `photo`;
- CalendarRangeError → 503: past the calendar's provisional years too (import the notices);
- the volunteers' NotFound → 404, Refused → 409, FieldError → 422 naming the field;
- NoticeNotFound → 404 (another desk's notice looks absent); NoticeRefused → 409;
  NoticeInputError → 422 naming the field;
- psycopg.DataError, bare or wrapped by SQLAlchemy (a value the database refuses: out of range,
  malformed, NUL) → 422 naming
  the parameter it concerns when one can be told; the edge checks (edge.py) stop such values
  first, this is the net under them.
"""

from __future__ import annotations

import psycopg
import sqlalchemy.exc
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from dispatch.api.auth import AuthError
from dispatch.api.edge import PG_BIGINT
from dispatch.api.photos import PhotoError
from dispatch.api.state import Forbidden
from dispatch.cases.flows import CaseNotFound, KeyReused
from dispatch.lifecycle.errors import DetailError, IllegalTransition, NotYours
from dispatch.notices.flows import NoticeNotFound
from dispatch.notices.rules import NoticeInputError, NoticeRefused
from dispatch.residents.values import TooMany
from dispatch.revisits import errors as revisit_errors
from dispatch.sla.errors import CalendarRangeError
from dispatch.volunteers import errors as volunteer_errors


class NotFound(Exception):
    """Absent, or outside the caller's scope (the same answer for both)."""


def culprit(request: Request, exc: psycopg.DataError) -> str | None:
    """The parameter a database refusal concerns: the one it quotes, or that holds NUL or an
    integer beyond bigint; None when no parameter can be told (a body field)."""
    message = str(exc)
    items = [*request.path_params.items(), *request.query_params.multi_items()]
    for name, value in items:
        text = str(value)
        big = text.lstrip("+-").isdigit() and abs(int(text)) > PG_BIGINT
        if "\x00" in text or big or (text and f'"{text}"' in message):
            return name
    return None


def install(app: FastAPI) -> None:
    @app.exception_handler(psycopg.DataError)
    async def refused_by_database(request: Request, exc: psycopg.DataError) -> JSONResponse:
        field = culprit(request, exc)
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return JSONResponse({"detail": f"the database refuses this value: {reason}", "field": field}, 422)

    @app.exception_handler(OverflowError)
    async def out_of_range(request: Request, exc: OverflowError) -> JSONResponse:
        """Date arithmetic on a valid but extreme instant (`until=0001-01-01…` minus 30 days)."""
        field = next((name for name, _ in request.query_params.multi_items()), None)
        return JSONResponse({"detail": f"a date or number is out of range: {exc}", "field": field}, 422)

    @app.exception_handler(sqlalchemy.exc.DataError)
    async def refused_through_sqlalchemy(request: Request, exc: sqlalchemy.exc.DataError) -> JSONResponse:
        """The same refusal met through a synchronous SQLAlchemy engine, which wraps it."""
        if isinstance(exc.orig, psycopg.DataError):
            return await refused_by_database(request, exc.orig)
        raise exc

    @app.exception_handler(AuthError)
    async def unauthorized(request: Request, exc: AuthError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=401, headers={"WWW-Authenticate": "Bearer"})

    @app.exception_handler(Forbidden)
    async def forbidden(request: Request, exc: Forbidden) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=403)

    @app.exception_handler(NotYours)
    async def not_yours(request: Request, exc: NotYours) -> JSONResponse:
        return JSONResponse({"detail": "not found in your scope"}, status_code=404)

    @app.exception_handler(CaseNotFound)
    async def no_case(request: Request, exc: CaseNotFound) -> JSONResponse:
        return JSONResponse({"detail": "not found in your scope"}, status_code=404)

    @app.exception_handler(NotFound)
    async def not_found(request: Request, exc: NotFound) -> JSONResponse:
        return JSONResponse({"detail": str(exc) or "not found in your scope"}, status_code=404)

    @app.exception_handler(IllegalTransition)
    async def illegal(request: Request, exc: IllegalTransition) -> JSONResponse:
        body = {
            "detail": str(exc),
            "state": exc.state.value,
            "action": exc.action.value,
            "role": exc.role.value,
        }
        return JSONResponse(body, status_code=409)

    @app.exception_handler(DetailError)
    async def detail(request: Request, exc: DetailError) -> JSONResponse:
        return JSONResponse({"detail": str(exc), "field": exc.field}, status_code=422)

    @app.exception_handler(KeyReused)
    async def reused(request: Request, exc: KeyReused) -> JSONResponse:
        return JSONResponse({"detail": str(exc), "field": "Idempotency-Key"}, status_code=422)

    @app.exception_handler(PhotoError)
    async def photo(request: Request, exc: PhotoError) -> JSONResponse:
        return JSONResponse({"detail": str(exc), "field": exc.field}, status_code=exc.status)

    @app.exception_handler(NoticeNotFound)
    async def no_notice(request: Request, exc: NoticeNotFound) -> JSONResponse:
        return JSONResponse({"detail": "not found in your scope"}, status_code=404)

    @app.exception_handler(NoticeRefused)
    async def notice_refused(request: Request, exc: NoticeRefused) -> JSONResponse:
        body = {"detail": str(exc), "state": exc.state.value, "action": exc.action.value, "role": "desk"}
        return JSONResponse(body, status_code=409)

    @app.exception_handler(NoticeInputError)
    async def notice_input(request: Request, exc: NoticeInputError) -> JSONResponse:
        return JSONResponse({"detail": str(exc), "field": exc.field}, status_code=422)

    @app.exception_handler(volunteer_errors.NotFound)
    async def no_volunteer_thing(request: Request, exc: volunteer_errors.NotFound) -> JSONResponse:
        return JSONResponse({"detail": "not found in your scope"}, status_code=404)

    @app.exception_handler(volunteer_errors.Refused)
    async def refused(request: Request, exc: volunteer_errors.Refused) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=409)

    @app.exception_handler(volunteer_errors.FieldError)
    async def volunteer_field(request: Request, exc: volunteer_errors.FieldError) -> JSONResponse:
        return JSONResponse({"detail": str(exc), "field": exc.field}, status_code=422)

    @app.exception_handler(revisit_errors.NotFound)
    async def no_revisit_thing(request: Request, exc: revisit_errors.NotFound) -> JSONResponse:
        return JSONResponse({"detail": "not found"}, status_code=404)

    @app.exception_handler(revisit_errors.Refused)
    async def revisit_refused(request: Request, exc: revisit_errors.Refused) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=409)

    @app.exception_handler(revisit_errors.FieldError)
    async def revisit_field(request: Request, exc: revisit_errors.FieldError) -> JSONResponse:
        return JSONResponse({"detail": str(exc), "field": exc.field}, status_code=422)

    @app.exception_handler(TooMany)
    async def too_many(request: Request, exc: TooMany) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=429, headers={"Retry-After": "600"})

    @app.exception_handler(CalendarRangeError)
    async def calendar(request: Request, exc: CalendarRangeError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=503)
