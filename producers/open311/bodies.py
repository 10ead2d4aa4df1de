"""An Open311 POST body (bytes + its Content-Type) → the request's fields (pure).

The framework's own form parser falls back to Latin-1 when a value is not UTF-8, so Chinese
text posted as raw UTF-8 bytes arrived garbled with a 200. Here every name and value is
decoded strictly as UTF-8 and a value that is not is refused naming its field; the three
media types an agency may send (urlencoded form, multipart form, a JSON object) each have a
parser, anything else is refused as the wrong media type, and a body that does not parse
says which kind it failed to be — before the API key is looked at, so a malformed body is
never answered as an authentication error.

    >>> fields("application/x-www-form-urlencoded", "description=%E8%B7%AF%E7%81%AF".encode())
    {'description': '路灯'}
    >>> fields("application/json", b'{"api_key": "k", "attribute": {"source_ref": "T-1"}}')
    {'api_key': 'k', 'attribute[source_ref]': 'T-1'}
"""

from __future__ import annotations

import json
from email import policy
from email.message import Message
from email.parser import BytesParser
from urllib.parse import unquote_to_bytes

MAX_BODY = 256 * 1024  # a request is a few fields of text; media travel as media_url
MAX_FIELDS = 200
FORM = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"
JSON = "application/json"
ACCEPTED = (FORM, MULTIPART, JSON)


class BodyError(Exception):
    """Why a body cannot be read: the HTTP status (400, 413, 415) and a description."""

    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.description = description


def media_type(content_type: str | None) -> tuple[str, dict[str, str]]:
    """`type/subtype` in lower case and its parameters (charset, boundary)."""
    head, *params = (content_type or "").split(";")
    options: dict[str, str] = {}
    for p in params:
        key, _, value = p.partition("=")
        options[key.strip().lower()] = value.strip().strip('"')
    return head.strip().lower(), options


def check_media_type(content_type: str | None) -> str:
    """The accepted media type, or a 415 naming what was sent and what is accepted."""
    kind, options = media_type(content_type)
    if kind not in ACCEPTED:
        shown = kind[:60] or "no Content-Type"
        raise BodyError(415, f"{shown} is not accepted: send {', '.join(ACCEPTED)}")
    charset = options.get("charset", "utf-8").lower()
    if charset not in ("utf-8", "utf8"):
        raise BodyError(415, f"charset {charset[:20]!r} is not accepted: send UTF-8")
    return kind


def _utf8(raw: bytes, what: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BodyError(400, f"{what} is not UTF-8 text") from None


def _add(found: dict[str, str], name: str, value: str) -> None:
    if name in found:
        raise BodyError(400, f"{name[:60]}: the field is sent more than once")
    if len(found) >= MAX_FIELDS:
        raise BodyError(400, f"the body has more than {MAX_FIELDS} fields")
    found[name] = value


def _urlencoded(body: bytes) -> dict[str, str]:
    found: dict[str, str] = {}
    for pair in body.split(b"&"):
        if not pair.strip():
            continue
        raw_name, sep, raw_value = pair.partition(b"=")
        if not sep:
            raise BodyError(400, "the body is not a valid form: a field without '=' (name=value&…)")
        name = _utf8(unquote_to_bytes(raw_name.replace(b"+", b" ")), "a field name")
        if not name:
            raise BodyError(400, "the body is not a valid form: a field without a name")
        _add(found, name, _utf8(unquote_to_bytes(raw_value.replace(b"+", b" ")), name[:60]))
    return found


def _multipart(body: bytes, content_type: str) -> dict[str, str]:
    if "boundary" not in media_type(content_type)[1]:
        raise BodyError(400, "the body is not a valid multipart form: Content-Type has no boundary")
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode("utf-8", "replace")
    message = BytesParser(policy=policy.HTTP).parsebytes(head + body)
    parts = message.get_payload()
    if not message.is_multipart() or not isinstance(parts, list) or message.defects:
        raise BodyError(400, "the body is not a valid multipart form (parts and boundary do not match)")
    found: dict[str, str] = {}
    for part in parts:
        assert isinstance(part, Message)
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str) or not name:
            raise BodyError(400, "the body is not a valid multipart form: a part without a name")
        if part.get_param("filename", header="content-disposition") is not None:
            raise BodyError(400, "media uploads are not accepted: send media_url")
        payload = part.get_payload(decode=True)
        _add(found, name, _utf8(payload if isinstance(payload, bytes) else b"", name[:60]))
    return found


def _scalar(name: str, value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    raise BodyError(400, f"{name[:60]}: must be a string or a number, not {type(value).__name__}")


def _json(body: bytes) -> dict[str, str]:
    text = _utf8(body.removeprefix(b"\xef\xbb\xbf"), "the JSON body")
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BodyError(
            400, f"the body is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    if not isinstance(doc, dict):
        raise BodyError(400, 'the JSON body must be an object of fields ({"service_code": …})')
    found: dict[str, str] = {}
    for name, value in doc.items():
        if name == "attribute" and isinstance(value, dict):
            for key, inner in value.items():
                if (shown := _scalar(f"attribute[{key}]", inner)) is not None:
                    _add(found, f"attribute[{key}]", shown)
        elif (shown := _scalar(name, value)) is not None:
            _add(found, name, shown)
    return found


def fields(content_type: str | None, body: bytes) -> dict[str, str]:
    """The body's fields by name; raises `BodyError` (400 / 413 / 415) saying why not."""
    kind = check_media_type(content_type)
    if len(body) > MAX_BODY:
        raise BodyError(413, f"the body is {len(body)} bytes: at most {MAX_BODY} are accepted")
    if kind == JSON:
        return _json(body)
    if kind == MULTIPART:
        return _multipart(body, content_type or "")
    return _urlencoded(body)
