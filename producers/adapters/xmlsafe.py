"""Safe XML for agency feeds: no DTDs, no entity expansion, no external references.

defusedxml refuses every DOCTYPE (`forbid_dtd=True`), so billion-laughs and quadratic-blowup
bombs and XXE never reach the expander; the refusal becomes a field-naming rejection like
any other malformed input. Namespaces are dropped from tag names after parsing (CAP 1.1 and
1.2, and feeds with or without a default namespace, read the same).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET  # only the Element type and serialising
from collections.abc import Callable, Iterator

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from producers.adapters.fields import decode_utf8
from producers.adapters.records import guarded, reject
from producers.errors import FieldError
from producers.outcome import Context, Outcome
from schemas.report import Report

_DECLARED = re.compile(rb"^\s*<\?xml[^>]*encoding\s*=\s*[\"']([A-Za-z0-9._-]+)[\"']")


def parse(data: bytes, check: Callable[[ET.Element], None] | None = None) -> ET.Element:
    """The tree with namespaces dropped from tag names; `check` sees it before they are."""
    declared = _DECLARED.match(data[:200])
    if declared is None or declared.group(1).lower().replace(b"_", b"-") in (b"utf-8", b"utf8"):
        decode_utf8(data)  # a precise "invalid UTF-8 at byte N" instead of expat's "invalid token"
    try:
        root: ET.Element = fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise FieldError(
            "$",
            f"XML refused: {type(exc).__name__} (DTDs, entities and external references are not accepted)",
        ) from None
    except ET.ParseError as exc:
        line, column = exc.position
        raise FieldError(
            "$", f"invalid XML at line {line} column {column}: {str(exc).split(':')[0]}"
        ) from None
    except LookupError:
        name = declared.group(1).decode("ascii", "replace") if declared else "?"
        raise FieldError("$", f"the XML declares an unknown encoding {name[:40]!r}") from None
    except (UnicodeError, ValueError) as exc:  # a declared non-UTF-8 encoding the bytes do not follow
        raise FieldError(
            "$", f"the XML text does not match its declared encoding ({type(exc).__name__})"
        ) from None
    if check is not None:
        check(root)
    for element in root.iter():
        if isinstance(element.tag, str) and "}" in element.tag:
            element.tag = element.tag.rsplit("}", 1)[1]
    return root


def child_text(element: ET.Element, tag: str) -> str | None:
    found = element.find(tag)
    if found is None:
        return None
    return "".join(found.itertext())


def serialise(element: ET.Element) -> str:
    return ET.tostring(element, encoding="unicode")


def adapt_xml(
    data: bytes,
    ctx: Context,
    *,
    single: str,
    records: Callable[[ET.Element], list[ET.Element]],
    expected: str,
    build: Callable[[tuple[ET.Element, bytes], Context], Report],
    check: Callable[[ET.Element], None] | None = None,
) -> Iterator[Outcome]:
    """The whole of an XML export's adapter once `build` maps one record: a document that is
    one `single` record, or a container whose `records(root)` are each guarded and kept with
    their own serialised XML as raw; anything else is one rejection naming what was expected."""
    try:
        root = parse(data, check)
    except FieldError as exc:
        yield reject(exc, data, ctx.at())
        return
    if root.tag == single:
        yield guarded(build, (root, data), ctx, raw=data, origin=ctx.at())
        return
    found = records(root)
    if not found:
        yield reject(FieldError("$", f"{expected}, got <{root.tag}>"), data, ctx.at())
        return
    for i, element in enumerate(found):
        raw = serialise(element).encode("utf-8")
        yield guarded(build, (element, raw), ctx, raw=raw, origin=ctx.at(record=f"{single}[{i}]"))
