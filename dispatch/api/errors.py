"""Domain errors to HTTP, at the edge only. Bodies are {"detail": …, "code": …} plus what names
the cause (`field`, or a refused transition's state, action and role). `detail` is English for
people reading logs and curl; `code` is a stable word (`required`, `unknown_worker`,
`illegal_transition`, …, listed in `CODES`) from which the pages word the message in their own
language (dispatch/web/src/common/i18n.js), so a Chinese page never shows the English detail.

- IllegalTransition → 409 with state, action and role;
- NotYours, CaseNotFound, NotFound → 404: out of scope looks exactly like absent (nothing leaks);
- DetailError → 422 naming the field; KeyReused → 422 naming the Idempotency-Key header;
- AuthError → 401; Forbidden (wrong role) → 403;
- PhotoError → 413 too large, 415 not a JPEG/PNG/WebP, 422 otherwise, naming the field `photo`;
- CalendarRangeError → 503: past the calendar's provisional years too (import the notices);
- the volunteers' NotFound → 404, Refused → 409, FieldError → 422 naming the field;
- NoticeNotFound → 404 (another desk's notice looks absent); NoticeRefused → 409;
  NoticeInputError → 422 naming the field;
- RequestValidationError (pydantic's checks of parameters and bodies) → 422 keeping its list
  of issues as `detail`, with `field` and `code` from the first issue (`required`, `too_long`…);
- psycopg.DataError, bare or wrapped by SQLAlchemy (a value the database refuses: out of range,
  malformed, NUL) → 422 naming
  the parameter it concerns when one can be told; the edge checks (edge.py) stop such values
  first, this is the net under them.
"""

from __future__ import annotations

import psycopg
import sqlalchemy.exc
from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
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


ISSUE_CODES = {
    "missing": "required",
    "string_too_short": "too_short",
    "string_too_long": "too_long",
    "too_short": "too_short",
    "too_long": "too_long",
    "extra_forbidden": "unknown_field",
    "literal_error": "not_a_choice",
    "enum": "not_a_choice",
    "string_pattern_mismatch": "bad_format",
    "greater_than": "out_of_range",
    "greater_than_equal": "out_of_range",
    "less_than": "out_of_range",
    "less_than_equal": "out_of_range",
    "timezone_aware": "needs_timezone",
}
"""pydantic's issue types, as the stable codes of the answer (any other type: `invalid`)."""

CODES = frozenset(
    {
        *ISSUE_CODES.values(),
        *("invalid", "unauthorized", "forbidden", "not_found", "illegal_transition", "refused"),
        *("key_reused", "photo_too_large", "photo_type", "too_many", "calendar_range", "database_refused"),
        *("unknown_worker", "already_holds", "nobody_on_shift", "merge_into_itself", "more_than_requested"),
        *("not_a_duration", "no_policy", "before_start", "in_the_past"),
        *("too_large", "sheet_refused", "ambiguous"),
    }
)
"""Every code an error body carries; the pages have a message for each (tests/dispatch/api/test_errors.py)."""


def problem(
    status: int, code: str, detail: object, headers: dict[str, str] | None = None, **more: object
) -> JSONResponse:
    """An error body: the English `detail`, the stable `code`, and what names the cause."""
    return JSONResponse({"detail": detail, "code": code, **more}, status_code=status, headers=headers)


def issue_field(loc: tuple[object, ...] | list[object]) -> str | None:
    """`body.area.geocodes.0` → `area.geocodes[0]`; a parameter's own name; None for the whole body."""
    parts = list(loc[1:]) if loc and loc[0] in ("body", "query", "path", "header") else list(loc)
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or None


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
    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        issues = jsonable_encoder(exc.errors())
        first = issues[0] if issues else {}
        code = ISSUE_CODES.get(str(first.get("type")), "invalid")
        return problem(422, code, issues, field=issue_field(first.get("loc") or ()))

    @app.exception_handler(psycopg.DataError)
    async def refused_by_database(request: Request, exc: psycopg.DataError) -> JSONResponse:
        field = culprit(request, exc)
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return problem(422, "database_refused", f"the database refuses this value: {reason}", field=field)

    @app.exception_handler(OverflowError)
    async def out_of_range(request: Request, exc: OverflowError) -> JSONResponse:
        """Date arithmetic on a valid but extreme instant (`until=0001-01-01…` minus 30 days)."""
        field = next((name for name, _ in request.query_params.multi_items()), None)
        return problem(422, "out_of_range", f"a date or number is out of range: {exc}", field=field)

    @app.exception_handler(sqlalchemy.exc.DataError)
    async def refused_through_sqlalchemy(request: Request, exc: sqlalchemy.exc.DataError) -> JSONResponse:
        """The same refusal met through a synchronous SQLAlchemy engine, which wraps it."""
        if isinstance(exc.orig, psycopg.DataError):
            return await refused_by_database(request, exc.orig)
        raise exc

    @app.exception_handler(AuthError)
    async def unauthorized(request: Request, exc: AuthError) -> JSONResponse:
        return problem(401, "unauthorized", str(exc), headers={"WWW-Authenticate": "Bearer"})

    @app.exception_handler(Forbidden)
    async def forbidden(request: Request, exc: Forbidden) -> JSONResponse:
        return problem(403, "forbidden", str(exc))

    @app.exception_handler(NotYours)
    async def not_yours(request: Request, exc: NotYours) -> JSONResponse:
        return problem(404, "not_found", "not found in your scope")

    @app.exception_handler(CaseNotFound)
    async def no_case(request: Request, exc: CaseNotFound) -> JSONResponse:
        return problem(404, "not_found", "not found in your scope")

    @app.exception_handler(NotFound)
    async def not_found(request: Request, exc: NotFound) -> JSONResponse:
        return problem(404, "not_found", str(exc) or "not found in your scope")

    @app.exception_handler(IllegalTransition)
    async def illegal(request: Request, exc: IllegalTransition) -> JSONResponse:
        return problem(
            409,
            "illegal_transition",
            str(exc),
            state=exc.state.value,
            action=exc.action.value,
            role=exc.role.value,
        )

    @app.exception_handler(DetailError)
    async def detail(request: Request, exc: DetailError) -> JSONResponse:
        return problem(422, exc.code, str(exc), field=exc.field)

    @app.exception_handler(KeyReused)
    async def reused(request: Request, exc: KeyReused) -> JSONResponse:
        return problem(422, "key_reused", str(exc), field="Idempotency-Key")

    @app.exception_handler(PhotoError)
    async def photo(request: Request, exc: PhotoError) -> JSONResponse:
        code = {413: "photo_too_large", 415: "photo_type"}.get(exc.status, "invalid")
        return problem(exc.status, code, str(exc), field=exc.field)

    @app.exception_handler(NoticeNotFound)
    async def no_notice(request: Request, exc: NoticeNotFound) -> JSONResponse:
        return problem(404, "not_found", "not found in your scope")

    @app.exception_handler(NoticeRefused)
    async def notice_refused(request: Request, exc: NoticeRefused) -> JSONResponse:
        return problem(
            409, "illegal_transition", str(exc), state=exc.state.value, action=exc.action.value, role="desk"
        )

    @app.exception_handler(NoticeInputError)
    async def notice_input(request: Request, exc: NoticeInputError) -> JSONResponse:
        return problem(422, "invalid", str(exc), field=exc.field)

    @app.exception_handler(volunteer_errors.NotFound)
    async def no_volunteer_thing(request: Request, exc: volunteer_errors.NotFound) -> JSONResponse:
        return problem(404, "not_found", "not found in your scope")

    @app.exception_handler(volunteer_errors.Refused)
    async def refused(request: Request, exc: volunteer_errors.Refused) -> JSONResponse:
        return problem(409, "refused", str(exc))

    @app.exception_handler(volunteer_errors.FieldError)
    async def volunteer_field(request: Request, exc: volunteer_errors.FieldError) -> JSONResponse:
        return problem(422, "invalid", str(exc), field=exc.field)

    @app.exception_handler(revisit_errors.NotFound)
    async def no_revisit_thing(request: Request, exc: revisit_errors.NotFound) -> JSONResponse:
        return problem(404, "not_found", "not found")

    @app.exception_handler(revisit_errors.Refused)
    async def revisit_refused(request: Request, exc: revisit_errors.Refused) -> JSONResponse:
        return problem(409, "refused", str(exc))

    @app.exception_handler(revisit_errors.FieldError)
    async def revisit_field(request: Request, exc: revisit_errors.FieldError) -> JSONResponse:
        return problem(422, "invalid", str(exc), field=exc.field)

    @app.exception_handler(TooMany)
    async def too_many(request: Request, exc: TooMany) -> JSONResponse:
        return problem(429, "too_many", str(exc), headers={"Retry-After": "600"})

    @app.exception_handler(CalendarRangeError)
    async def calendar(request: Request, exc: CalendarRangeError) -> JSONResponse:
        return problem(503, "calendar_range", str(exc))
