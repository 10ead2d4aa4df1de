"""Every page in Chinese by default and in English on the switch, checked on the rendered
pages in the Debian Chromium: the visible text (options, placeholders and titles too) of the
board with a case open and its picker, the worker's tasks, the KPIs, the inbox, people, dead
letters, the volunteer's and the resident's pages and the login, scanned for untranslated keys
(`eligible_worker`), English in the Chinese pages (`system intake`, `yellow`, routing reasons,
`Failed to fetch`), and errors that repeat their field (`assignee: assignee: …`).

What is data rather than wording is marked `translate="no"` by the pages (ids, codes, raw
records, machine reasons of dead letters) and left out; so are words with digits (P1, ids).
The API's refusals are not data: a refused command's toast is worded from the error's code in
the page's language, and scanned.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.dispatch.web.browser import login, open_page
from tests.dispatch.web.conftest import LEAD, LEAD_PASSWORD, OPERATOR, PASSWORD, PIN, Stack

pytestmark = [pytest.mark.db, pytest.mark.kafka]

VISIBLE_TEXT = """() => {
  const out = [];
  const skip = (el) => el.closest('[translate=no]');
  const shown = (el) => el.getClientRects().length > 0 && getComputedStyle(el).visibility !== 'hidden';
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement;
    if (!el || skip(el) || ['SCRIPT', 'STYLE', 'OPTION'].includes(el.tagName) || !shown(el)) continue;
    if (n.textContent.trim()) out.push(n.textContent.trim());
  }
  for (const el of document.querySelectorAll('select')) {
    if (shown(el) && !skip(el)) for (const o of el.options) out.push(o.textContent.trim());
  }
  for (const el of document.querySelectorAll('[placeholder], [title], [aria-label]')) {
    if (!shown(el) || skip(el)) continue;
    for (const a of ['placeholder', 'title', 'aria-label']) {
      if (el.getAttribute(a)) out.push(el.getAttribute(a));
    }
  }
  return out;
}"""
ALLOWED = {"English", "PIN", "Excel", "CSV", "csv", "xlsx", "JPEG", "PNG", "WebP"}
KEY = re.compile(r"\b[a-z]+(?:_[a-z]+)+\b")
WORD = re.compile(r"[A-Za-z]{2,}")
REPEATED_FIELD = re.compile(r"\b(\w+)\s*[:：]\s*\1\s*[:：]")
DATA = re.compile(r"\S*\d\S*|https?://\S+|\S+@\S+")  # words with digits: ids, codes, P0–P4, times


def problems(texts: list[str], *, chinese: bool) -> list[str]:
    """The strings that leak a key, English in Chinese mode, or a field named twice."""
    out = []
    for text in texts:
        if REPEATED_FIELD.search(text):
            out.append(f"field named twice: {text!r}")
        words = DATA.sub(" ", text)
        if KEY.search(words):
            out.append(f"untranslated key: {text!r}")
        elif chinese and any(w not in ALLOWED for w in WORD.findall(words)):
            out.append(f"English in a Chinese page: {text!r}")
    return sorted(set(out))


def scan(page: Page, where: str, found: dict[str, list[str]], *, chinese: bool = True) -> None:
    page.wait_for_timeout(300)  # the last answers drawn
    bad = problems(page.evaluate(VISIBLE_TEXT), chinese=chinese)
    if bad:
        found[where] = bad


def test_the_problem_finder_finds_what_it_looks_for() -> None:
    assert problems(["升级 red → district_center"], chinese=True) == [
        "untranslated key: '升级 red → district_center'"
    ]
    assert problems(["派遣 · system intake"], chinese=True) == [
        "English in a Chinese page: '派遣 · system intake'"
    ]
    assert problems(["assignee: assignee: not in the directory"], chinese=False)[0].startswith("field named")
    assert problems(["P1 网格员 500106001001001-grid_worker-1 · 12/01 18:02", "English"], chinese=True) == []
    assert problems(["Failed to fetch"], chinese=False) == []


def _operator_pages(stack: Stack, page: Page, found: dict[str, list[str]], *, chinese: bool) -> None:
    lang = "zh" if chinese else "en"
    page.goto(f"{stack.url}/board#case={stack.overdue[0]}")
    page.wait_for_selector("body[data-ready=true]")
    page.wait_for_selector(f"#detail[data-id='{stack.overdue[0]}']")
    scan(page, f"board escalated case ({lang})", found, chinese=chinese)
    page.click("#detail button.close")
    for queue in ("escalated", "overdue"):
        page.click(f"#queue-{queue}")
        scan(page, f"board {queue} ({lang})", found, chinese=chinese)
    page.goto(f"{stack.url}/board#case={stack.case.incident_id}")
    page.wait_for_selector(f"#detail[data-id='{stack.case.incident_id}']")
    page.click("#detail button[data-action=reassign]")
    page.wait_for_selector("#detail .action-form select[name=assignee] option >> nth=0", state="attached")
    scan(page, f"board case panel and picker ({lang})", found, chinese=chinese)
    # a refused command: the toast names the field once and words the API's error from its code
    # (`unknown_worker`) in the page's language; the scan reads the toast too
    page.evaluate(
        "document.querySelector('#detail select[name=assignee]')"
        ".add(new Option('查无此人', 'nobody-here', true, true))"
    )
    page.fill("#detail .action-form [name=reason]", "试探")
    page.click("#detail .action-form button[type=submit]")
    toast = page.locator("#toast.err")
    toast.wait_for()
    expect(toast.locator(".problem")).to_have_attribute("data-code", "unknown_worker")
    expected = "责任人：不在人员名录中" if chinese else "assignee: is not in the workforce directory"
    assert toast.inner_text() == expected, toast.inner_text()
    scan(page, f"board refused command ({lang})", found, chinese=chinese)
    page.click("#detail button[data-action=merge]")
    page.wait_for_selector("#detail .action-form[data-action=merge]")
    scan(page, f"board merge ({lang})", found, chinese=chinese)
    for path in ("/board/kpi", "/board/people", "/board/dlq"):
        page.goto(f"{stack.url}{path}")
        page.wait_for_load_state("networkidle")
        scan(page, f"{path} ({lang})", found, chinese=chinese)


def test_every_page_speaks_the_language_chosen(stack: Stack, chromium: Path, tmp_path: Path) -> None:
    found: dict[str, list[str]] = {}
    with open_page(chromium, tmp_path / "anonymous") as (page, errors):
        for path in ("/login", "/r", "/v"):
            page.goto(f"{stack.url}{path}")
            page.wait_for_load_state("networkidle")
            scan(page, f"{path} (zh)", found)
    with open_page(chromium, tmp_path / "operator") as (page, errors):
        login(page, stack.url, username=OPERATOR, password=PASSWORD)
        page.wait_for_url("**/board")
        _operator_pages(stack, page, found, chinese=True)
        page.evaluate("localStorage.setItem('yiwang.lang', 'en')")
        _operator_pages(stack, page, found, chinese=False)
        refused = [e for e in errors if "status of 422" in e]
        assert len(refused) == 2 and len(errors) == 2, errors  # only the refusals provoked above
    with open_page(chromium, tmp_path / "worker", phone=True) as (page, errors):
        login(page, stack.url, worker_id=stack.case.assignee, pin=PIN)
        page.wait_for_selector("body[data-ready=true]")
        scan(page, "/m (zh)", found)
    with open_page(chromium, tmp_path / "desk") as (page, errors):
        login(page, stack.url, username=LEAD, password=LEAD_PASSWORD)
        page.wait_for_selector("body[data-ready=true]")
        scan(page, "/inbox (zh)", found)
    assert not found, "\n".join(f"{where}:\n  " + "\n  ".join(bad) for where, bad in found.items())
