"""Input checks every route gets, in one place, before a handler or the database sees a value.

- Query and path parameters (`refuse_control_characters`, an app-wide dependency) and request
  bodies (`Body`, the base of every body model) refuse NUL, control characters and lone
  surrogates with 422 naming the field; body fields listed in a model's `prose` keep tabs and
  line breaks (schemas/text.py says which characters).
- Integer parameters are bounded to what PostgreSQL takes (`Offset`, `Limit`: `le=PG_BIGINT`);
  tests/dispatch/api/test_openapi.py fails for an integer parameter without such a bound.
- A database error that input can still cause (`psycopg.DataError`: a value out of range, a
  malformed literal) is answered 422 naming the parameter it quotes, never 500 (errors.py).
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

from fastapi import Query, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator

from dispatch.api.board import MAX_PAGE
from schemas.text import control_character, describe

PG_BIGINT = 2**63 - 1

Offset = Annotated[int, Query(ge=0, le=PG_BIGINT)]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE)]
Year = Annotated[int | None, Query(ge=2000, le=9998, description="a calendar year; default: this one")]


def _issue(where: str, name: str, reason: str) -> dict[str, Any]:
    return {"type": "value_error", "loc": (where, name), "msg": reason, "input": None}


def parameter_issues(request: Request) -> list[dict[str, Any]]:
    """Every query and path parameter holding a character no field may hold."""
    out = []
    params = (("path", request.path_params.items()), ("query", request.query_params.multi_items()))
    for where, items in params:
        for name, value in items:
            if isinstance(value, str) and (at := control_character(value)) is not None:
                out.append(_issue(where, name, describe(value, at)))
    return out


async def refuse_control_characters(request: Request) -> None:
    if issues := parameter_issues(request):
        raise RequestValidationError(issues)


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple):
        return [s for v in value for s in _strings(v)]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (*_strings(k), *_strings(v))]
    return []


class Body(BaseModel):
    """The base of every request body: unknown fields refused, text checked (one line unless
    the field is in `prose`)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    prose: ClassVar[frozenset[str]] = frozenset()

    @field_validator("*", mode="before")
    @classmethod
    def _no_control_characters(cls, value: Any, info: ValidationInfo) -> Any:
        newlines = info.field_name in cls.prose
        for text in _strings(value):
            if (at := control_character(text, newlines=newlines)) is not None:
                raise ValueError(describe(text, at))
        return value
