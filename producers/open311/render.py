"""Open311 responses in JSON or XML (pure). XML is written with ElementTree from our own data
(parsing untrusted XML goes through defusedxml elsewhere; nothing here parses)."""

from __future__ import annotations

import xml.etree.ElementTree as ET  # building our own documents only
from collections.abc import Sequence
from typing import Any

import orjson
from starlette.responses import Response

FORMATS = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}
CHILD_TAGS = {"attributes": "attribute", "values": "value", "endpoints": "endpoint", "formats": "format"}


def _scalar(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _fill(element: ET.Element, value: Any, tag: str) -> None:
    if isinstance(value, dict):
        for key, inner in value.items():
            _fill(ET.SubElement(element, key), inner, key)
    elif isinstance(value, list):
        for item in value:
            child_tag = CHILD_TAGS.get(tag, "item")
            _fill(ET.SubElement(element, child_tag), item, child_tag)
    else:
        element.text = _scalar(value)


def xml_document(root: str, item: str | None, data: Any) -> bytes:
    element = ET.Element(root)
    if item is not None and isinstance(data, list):
        for entry in data:
            _fill(ET.SubElement(element, item), entry, item)
    else:
        _fill(element, data, root)
    body: bytes = ET.tostring(element, encoding="utf-8", xml_declaration=False)
    return b'<?xml version="1.0" encoding="utf-8"?>' + body


def respond(fmt: str, data: Any, *, root: str, item: str | None = None, status: int = 200) -> Response:
    if fmt == "xml":
        return Response(xml_document(root, item, data), status_code=status, media_type=FORMATS["xml"])
    return Response(orjson.dumps(data), status_code=status, media_type=FORMATS["json"])


def error(fmt: str, status: int, descriptions: Sequence[str]) -> Response:
    """Open311's error format: a list of {code, description}."""
    body = [{"code": status, "description": d} for d in descriptions]
    return respond(fmt if fmt in FORMATS else "json", body, root="errors", item="error", status=status)
