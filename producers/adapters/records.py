"""Splitting an export into records, and turning each record's failure into a rejection.

A bad record never stops the others: `guarded` runs one record's mapping and returns either
the report or a `Rejection` with that record's own raw bytes. A bug in an adapter is caught
there too (logged by exception type only, never with record contents) and dead-lettered, so
a producer keeps running; the fuzz tests assert it never happens.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import orjson

from producers.adapters.fields import decode_utf8
from producers.errors import FieldError
from producers.outcome import Context, Outcome, Rejection
from schemas.dead_letter import Origin
from schemas.report import MAX_RAW, Report

log = logging.getLogger(__name__)
T = TypeVar("T")


def guarded(
    build: Callable[[T, Context], Report], item: T, ctx: Context, *, raw: bytes, origin: Origin
) -> Outcome:
    oversize = too_large(raw)
    if oversize is not None:
        return reject(oversize, raw, origin)
    try:
        return build(item, ctx)
    except Exception as exc:  # the last line of defence: dead-letter, count, log, go on
        return _failed(exc, ctx, raw, origin)


def guarded_many(
    build: Callable[[T, Context], list[Outcome]], item: T, ctx: Context, *, raw: bytes, origin: Origin
) -> list[Outcome]:
    """`guarded` for a record that becomes several outcomes (a report and its companion)."""
    oversize = too_large(raw)
    if oversize is not None:
        return [reject(oversize, raw, origin)]
    try:
        return build(item, ctx)
    except Exception as exc:
        return [_failed(exc, ctx, raw, origin)]


def _failed(exc: Exception, ctx: Context, raw: bytes, origin: Origin) -> Rejection:
    if isinstance(exc, FieldError):
        return Rejection(exc.field, exc.reason, raw, origin)
    log.error(
        "%s adapter failed on a record at %s: %s",
        ctx.config.source,
        origin.model_dump(exclude_none=True),
        type(exc).__name__,
    )
    return Rejection(
        "$", f"$: the adapter failed on this record ({type(exc).__name__}); kept for replay", raw, origin
    )


def reject(exc: FieldError, raw: bytes, origin: Origin) -> Rejection:
    return Rejection(exc.field, exc.reason, raw, origin)


def too_large(raw: bytes) -> FieldError | None:
    if len(raw) > MAX_RAW:
        return FieldError("$", f"record is {len(raw)} bytes, larger than the {MAX_RAW}-byte limit")
    return None


@dataclass(frozen=True, slots=True)
class JsonRecord:
    value: Any
    raw: bytes
    origin: Origin


def _json_error(exc: orjson.JSONDecodeError) -> FieldError:
    return FieldError("$", f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}")


def json_records(data: bytes, ctx: Context, *, list_key: str) -> Iterator[JsonRecord | Rejection]:
    """Records of a JSON export: `{list_key: [...]}`, a bare array, one object, or JSON Lines.

    JSON Lines is recognised when the whole input is not one JSON document but its first
    non-empty line is: then every line stands alone and a bad line rejects only itself.
    """
    try:
        doc = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        lines = data.splitlines()
        if _looks_like_lines(lines):
            yield from _json_lines(lines, ctx)
            return
        try:
            decode_utf8(data)
            error = _json_error(exc)
        except FieldError as bad_text:
            error = bad_text
        yield reject(error, data, ctx.at())
        return
    if isinstance(doc, dict) and list_key in doc:
        items = doc[list_key]
        if not isinstance(items, list):
            yield reject(FieldError("$", f"'{list_key}' must be an array"), data, ctx.at())
            return
        for i, item in enumerate(items):
            yield JsonRecord(item, orjson.dumps(item), ctx.at(record=f"{list_key}[{i}]"))
    elif isinstance(doc, list):
        for i, item in enumerate(doc):
            yield JsonRecord(item, orjson.dumps(item), ctx.at(record=f"[{i}]"))
    elif isinstance(doc, dict):
        yield JsonRecord(doc, data, ctx.at())
    else:
        yield reject(
            FieldError("$", f"expected {{'{list_key}': [...]}}, an array or one record object"),
            data,
            ctx.at(),
        )


def _looks_like_lines(lines: list[bytes]) -> bool:
    filled = [ln for ln in lines if ln.strip()]
    if len(filled) < 2:
        return False
    try:
        return isinstance(orjson.loads(filled[0]), dict)
    except orjson.JSONDecodeError:
        return False


def _json_lines(lines: list[bytes], ctx: Context) -> Iterator[JsonRecord | Rejection]:
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        origin = ctx.at(line=n)
        try:
            decode_utf8(line)
            value = orjson.loads(line)
        except FieldError as exc:
            yield reject(exc, line, origin)
            continue
        except orjson.JSONDecodeError as exc:
            yield reject(FieldError("$", f"invalid JSON at column {exc.colno}: {exc.msg}"), line, origin)
            continue
        yield JsonRecord(value, line, origin)


def as_object(record: JsonRecord) -> dict[str, Any]:
    if not isinstance(record.value, dict):
        raise FieldError("$", f"expected a JSON object, got {type(record.value).__name__}")
    return record.value


def adapt_json(
    data: bytes, ctx: Context, *, list_key: str, build: Callable[[JsonRecord, Context], Report]
) -> Iterator[Outcome]:
    """The whole of a JSON export's adapter once `build` maps one record: every record guarded,
    every unreadable one already a rejection."""
    for item in json_records(data, ctx, list_key=list_key):
        yield (
            guarded(build, item, ctx, raw=item.raw, origin=item.origin)
            if isinstance(item, JsonRecord)
            else item
        )
