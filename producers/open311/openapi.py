"""What the Open311 endpoints take and answer, for /openapi.json (pure data).

The handlers read the raw request themselves (so errors keep Open311's format in any app),
which leaves FastAPI nothing to describe: these are the `openapi_extra` of each route, from
the GeoReport v2 specification and what `mapping.to_report` reads. JSON bodies are described;
XML is the same data under `<service_requests>`, `<services>`, … roots.
"""

from __future__ import annotations

from typing import Any

from config.policy import Priority
from schemas.report import Crs

Schema = dict[str, Any]

_TEXT: Schema = {"type": "string"}
_OPT_TEXT: Schema = {"type": ["string", "null"]}
FMT: Schema = {
    "name": "fmt",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "enum": ["json", "xml"]},
    "description": "json or xml",
}
JURISDICTION: Schema = {"name": "jurisdiction_id", "in": "query", "required": False, "schema": _TEXT}


def _query(name: str, description: str) -> Schema:
    return {"name": name, "in": "query", "required": False, "schema": _TEXT, "description": description}


def _path(name: str, description: str) -> Schema:
    return {"name": name, "in": "path", "required": True, "schema": _TEXT, "description": description}


ERRORS: Schema = {
    "type": "array",
    "items": {
        "type": "object",
        "properties": {"code": {"type": "integer"}, "description": {"type": "string"}},
        "required": ["code", "description"],
    },
}
SERVICE: Schema = {
    "type": "object",
    "properties": {
        "service_code": _TEXT,
        "service_name": _TEXT,
        "description": _TEXT,
        "metadata": {"type": "boolean"},
        "type": _TEXT,
        "keywords": _TEXT,
        "group": _TEXT,
    },
    "required": ["service_code", "service_name", "metadata", "type"],
}
DEFINITION: Schema = {
    "type": "object",
    "properties": {"service_code": _TEXT, "attributes": {"type": "array", "items": {"type": "object"}}},
    "required": ["service_code", "attributes"],
}
DISCOVERY: Schema = {
    "type": "object",
    "properties": {
        "changeset": _TEXT,
        "contact": _TEXT,
        "key_service": _TEXT,
        "endpoints": {"type": "array", "items": {"type": "object"}},
    },
    "required": ["endpoints"],
}
RECEIPT: Schema = {
    "type": "object",
    "properties": {"service_request_id": _TEXT, "service_notice": _OPT_TEXT, "account_id": _OPT_TEXT},
    "required": ["service_request_id"],
}
RETURN_VISIT: Schema = {
    "type": "object",
    "properties": {
        "status": {"type": "string", "enum": ["pending", "answered", "not_reached"]},
        "requested_datetime": {"type": "string", "format": "date-time"},
        "due_datetime": {"type": "string", "format": "date-time"},
        "answer": {
            "type": ["string", "null"],
            "enum": ["satisfied", "basically_satisfied", "dissatisfied", None],
        },
        "reworked": {"type": "boolean"},
    },
    "required": ["status", "requested_datetime", "due_datetime", "answer", "reworked"],
}
REQUEST: Schema = {
    "type": "object",
    "properties": {
        "service_request_id": _TEXT,
        "status": {"type": "string", "enum": ["open", "closed"]},
        "status_notes": _OPT_TEXT,
        "service_name": _OPT_TEXT,
        "service_code": _TEXT,
        "description": _OPT_TEXT,
        "agency_responsible": _OPT_TEXT,
        "requested_datetime": {"type": "string", "format": "date-time"},
        "updated_datetime": {"type": ["string", "null"], "format": "date-time"},
        "address": _OPT_TEXT,
        "lat": {"type": ["number", "null"]},
        "long": {"type": ["number", "null"]},
        "media_url": _OPT_TEXT,
        "extended_attributes": {
            "type": "object",
            "description": "with extensions=true: the latest closing's return visit (回访), null before one",
            "properties": {"return_visit": {"anyOf": [RETURN_VISIT, {"type": "null"}]}},
        },
    },
    "required": ["service_request_id", "status", "service_code", "requested_datetime"],
}
FORM: Schema = {
    "type": "object",
    "properties": {
        "api_key": {**_TEXT, "description": "the agency's key (config/agencies.toml)"},
        "service_code": {**_TEXT, "description": "a category code from services.json"},
        "lat": {**_TEXT, "description": "latitude (attribute[crs]: wgs84 by default)"},
        "long": {**_TEXT, "description": "longitude"},
        "address_string": _TEXT,
        "address_id": _TEXT,
        "description": {**_TEXT, "description": "what is wrong (line breaks kept)"},
        "media_url": _TEXT,
        "email": _TEXT,
        "phone": _TEXT,
        "first_name": _TEXT,
        "last_name": _TEXT,
        "account_id": _TEXT,
        "device_id": _TEXT,
        "attribute[source_ref]": {**_TEXT, "description": "your own id: a retried POST is the same request"},
        "attribute[priority]": {"type": "string", "enum": [p.value for p in Priority]},
        "attribute[crs]": {"type": "string", "enum": [c.value for c in Crs]},
    },
    "required": ["api_key", "service_code"],
}


def _answers(ok: Schema, *codes: int) -> Schema:
    error = {"content": {"application/json": {"schema": ERRORS}, "text/xml": {"schema": _TEXT}}}
    out: Schema = {
        "200": {
            "description": "the answer (JSON; XML with .xml)",
            "content": {"application/json": {"schema": ok}, "text/xml": {"schema": _TEXT}},
        }
    }
    for code in (404, *codes):
        out[str(code)] = {"description": "Open311 errors: [{code, description}]", **error}
    return out


def operation(parameters: list[Schema], ok: Schema, *codes: int, body: Schema | None = None) -> Schema:
    """One route's `openapi_extra`: its parameters (with fmt and jurisdiction_id), body, answers."""
    out: Schema = {"parameters": [*parameters, FMT, JURISDICTION], "responses": _answers(ok, *codes)}
    if body is not None:
        media = {"schema": body}
        out["requestBody"] = {
            "required": True,
            "content": {
                "application/x-www-form-urlencoded": media,
                "multipart/form-data": media,
                "application/json": media,  # also {"attribute": {"source_ref": …}}
            },
        }
    return out


EXTENSIONS: Schema = {
    "name": "extensions",
    "in": "query",
    "required": False,
    "description": "true: each request carries extended_attributes (the return visit)",
    "schema": {"type": "string", "enum": ["true", "false"]},
}
DISCOVERY_OP = operation([], DISCOVERY, 400)
SERVICES_OP = operation([], {"type": "array", "items": SERVICE}, 400)
DEFINITION_OP = operation([_path("code", "a service_code")], DEFINITION, 400)
POST_OP = operation([], {"type": "array", "items": RECEIPT}, 400, 403, 413, 415, 503, body=FORM)
SEARCH_OP = operation(
    [
        _query("service_request_id", "ids, comma-separated (then the other filters are ignored)"),
        _query("service_code", "codes, comma-separated"),
        _query("start_date", "W3C datetime with a zone; default: 90 days before end_date"),
        _query("end_date", "W3C datetime with a zone; default: now"),
        _query("status", "open, closed or both, comma-separated"),
        EXTENSIONS,
    ],
    {"type": "array", "items": REQUEST},
    400,
)
ONE_OP = operation(
    [_path("request_id", "a service_request_id"), EXTENSIONS], {"type": "array", "items": REQUEST}, 400
)
