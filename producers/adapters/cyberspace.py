"""网信 (cyberspace administration) tips: plain text, `键：值` lines, an address and no coordinates.

    线索编号：WX-500106-20250601-0031        → source_ref
    发现时间：2025-06-01 07:30               → reported_at (local)
    线索类型：网络谣言                        → category (config/sources.toml)
    紧急程度：一般                            → priority override
    涉及地址：沙坪坝区三峡广场步行街            → location.address (required: tips carry no point)
    来源平台：微博                            (kept in raw)
    内容摘要：网传……                          → description; lines without a key continue it
    附件：https://…/1.png；https://…/2.png   → attachments
    举报人：… / 联系方式：…                   → reporter
    ----------                               a line of dashes (or =) ends a record

The full-width colon is what the export writes; an ASCII colon is accepted too.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from producers.adapters import fields as f
from producers.adapters.records import guarded, reject
from producers.canonical import build_report
from producers.errors import FieldError
from producers.outcome import Context, Outcome
from schemas.report import MAX_ADDRESS, MAX_ATTACHMENTS, MAX_DESCRIPTION, MAX_SOURCE_REF, RawFormat, Report

KEYS = (
    "线索编号",
    "发现时间",
    "线索类型",
    "紧急程度",
    "涉及地址",
    "来源平台",
    "内容摘要",
    "附件",
    "举报人",
    "联系方式",
)
_KEY_LINE = re.compile(rf"^\s*({'|'.join(KEYS)})\s*[：:]\s*(.*)$")
_SEPARATOR = re.compile(r"^\s*(-{3,}|={3,})\s*$")
NATIVES = {
    "source_ref": "线索编号",
    "reported_at": "发现时间",
    "category": "线索类型",
    "description": "内容摘要",
    "location.address": "涉及地址",
}


def _fields(lines: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    last: str | None = None
    for line in lines:
        match = _KEY_LINE.match(line)
        if match:
            last = match.group(1)
            if last in out:
                raise FieldError("$", f"{last} appears twice in one tip", last)
            out[last] = match.group(2).strip()
        elif last is not None:
            out[last] = f"{out[last]}\n{line.strip()}".strip()
        else:
            raise FieldError("$", "expected a '键：值' line before free text")
    return out


def _report(item: tuple[list[str], str], ctx: Context) -> Report:
    lines, raw = item
    kv = _fields(lines)
    cfg = ctx.config
    attachments = [a for a in re.split(r"[；;\s]+", kv.get("附件", "")) if a]
    if len(attachments) > MAX_ATTACHMENTS:
        raise FieldError("attachments", f"{len(attachments)} attachments, at most {MAX_ATTACHMENTS}", "附件")
    name = f.text(kv.get("举报人"), field="reporter.name", native="举报人", max_len=100, required=False)
    phone = f.text(kv.get("联系方式"), field="reporter.phone", native="联系方式", max_len=40, required=False)
    return build_report(
        ctx,
        source_ref=f.text(kv.get("线索编号"), field="source_ref", native="线索编号", max_len=MAX_SOURCE_REF)
        or "",
        reported_at=f.timestamp(
            kv.get("发现时间"),
            field="reported_at",
            native="发现时间",
            tz=cfg.timezone,
            received_at=ctx.received_at,
        ),
        category=f.category(cfg, kv.get("线索类型"), native="线索类型", label="线索类型"),
        priority=f.priority(cfg, kv.get("紧急程度"), native="紧急程度"),
        address=f.text(kv.get("涉及地址"), field="location.address", native="涉及地址", max_len=MAX_ADDRESS),
        description=f.text(
            kv.get("内容摘要"),
            field="description",
            native="内容摘要",
            max_len=MAX_DESCRIPTION,
            required=False,
        )
        or "",
        reporter={"name": name, "phone": phone} if name or phone else None,
        attachments=[{"uri": a} for a in attachments],
        raw_text=raw,
        raw_format=RawFormat.TEXT,
        natives=NATIVES,
    )


def adapt(data: bytes, ctx: Context) -> Iterator[Outcome]:
    try:
        text = f.decode_utf8(data)
    except FieldError as exc:
        yield reject(exc, data, ctx.at())
        return
    block: list[str] = []
    start = 0
    for n, line in enumerate([*text.splitlines(), "----"], start=1):
        if not _SEPARATOR.match(line):
            if not block:
                if not line.strip():
                    continue
                start = n
            block.append(line)
            continue
        if block:
            raw = "\n".join(block) + "\n"
            content = [ln for ln in block if ln.strip()]
            yield guarded(_report, (content, raw), ctx, raw=raw.encode("utf-8"), origin=ctx.at(line=start))
        block = []
