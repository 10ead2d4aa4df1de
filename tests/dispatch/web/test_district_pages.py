"""The resident page and the dead-letter desk with two districts, in the Debian Chromium.

/r: the resident picks their district (or follows a district's link, /r?district=…), kept on the
device; an address both districts hold, with none picked, asks which district is theirs; an
address not in the picked district says so. /board/dlq: each letter names its district (城市: no
district holds it) and, opened, how that was read; the 九龙坡 operator's desk says whose it is
and holds 九龙坡's letter only; the city operator's holds both and filters by district.

九龙坡's layers and its first buildings are loaded beside 沙坪坝's for this module only
(`tests.dispatch.web.second_district`), and removed afterwards. The placement of an opened
letter is worded in the page's language from the API's `placed_by`. The resident test starts
an API process of its own: the stack's API has read its gazetteers (one district) already and
keeps them for ten minutes.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from dispatch.api.auth import ApiRole, Principal
from geo.reference import ReferenceDistrict
from tests.casework import JIULONGPO
from tests.dispatch.web.browser import open_page, shot, signed_in_as
from tests.dispatch.web.conftest import Stack, _start_api
from tests.dispatch.web.second_district import jiulongpo_loaded, refuse_110
from tests.net import free_port

pytestmark = [pytest.mark.db, pytest.mark.kafka]
JLP_LOADED = 200  # the buildings the resident test types are among them
OUTSIDE_BOTH = (106.60, 29.56)  # the city desk's point (README: "outside both")


def _bare(d: ReferenceDistrict, address: str) -> str:
    return address.removeprefix(f"{d.city}{d.name}")


def _house(address: str) -> str:
    return re.sub(r"号.*", "号", address)


@pytest.fixture(scope="module")
def jiulongpo(stack: Stack) -> Iterator[ReferenceDistrict]:
    with jiulongpo_loaded(stack, buildings=JLP_LOADED) as jlp:
        yield jlp


@pytest.fixture(scope="module")
def fresh_api(
    stack: Stack, jiulongpo: ReferenceDistrict, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    home = tmp_path_factory.mktemp("districts-api")
    port = free_port()
    api: subprocess.Popen[bytes] = _start_api(stack.settings, home, port, stack.home / "accounts.toml")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        api.terminate()
        api.wait(timeout=30)


def test_the_resident_page_knows_the_residents_district(
    stack: Stack, jiulongpo: ReferenceDistrict, fresh_api: str, chromium: Path, tmp_path: Path
) -> None:
    spb_bare = {_bare(stack.district, b.address) for b in stack.district.buildings}
    jlp_bare = [_bare(jiulongpo, b.address) for b in jiulongpo.buildings[:JLP_LOADED]]
    shared = next(a for a in jlp_bare if a in spb_bare)
    jlp_houses = {_house(a) for a in jlp_bare}
    spb_only = next(a for a in sorted(spb_bare) if _house(a) not in jlp_houses)
    with open_page(chromium, tmp_path / "phone", phone=True) as (page, errors):
        page.goto(f"{fresh_api}/r")
        page.wait_for_selector("body[data-ready=form]")
        picker = page.locator("#district select")
        expect(picker.locator("option")).to_have_count(3)  # 请选择, 沙坪坝区, 九龙坡区
        expect(picker).to_have_value("")
        page.fill("#report [name=address]", shared)
        page.click("#find")
        which = page.locator("#which")
        expect(which).to_contain_text("您在哪个区")  # a question, not an error
        shot(page, "resident-which-district", full_page=True)
        which.locator(f"button[data-code='{JIULONGPO}']").click()
        names = page.locator("#preview-names")
        expect(names).to_have_attribute("data-district", JIULONGPO)
        expect(names).to_contain_text("九龙坡区")
        expect(page.locator("#preview #place-map path.mine")).to_have_count(1)
        expect(picker).to_have_value(JIULONGPO)
        shot(page, "resident-district-found", full_page=True)

        page.reload()  # kept on the device: a bare address is now 九龙坡's
        page.wait_for_selector("body[data-ready=form]")
        expect(page.locator("#district select")).to_have_value(JIULONGPO)
        page.fill("#report [name=address]", spb_only)
        page.click("#find")
        none = page.locator("#preview-none")
        expect(none).to_have_attribute("data-code", "not_found")
        expect(none).to_have_text(re.compile("^在九龙坡区没有找到这个地址"))

        page.goto(f"{fresh_api}/r?district={stack.district.code}")  # a district's link wins
        page.wait_for_selector("body[data-ready=form]")
        expect(page.locator("#district select")).to_have_value(stack.district.code)
        page.fill("#report [name=address]", shared)
        page.click("#find")
        expect(page.locator("#preview-names")).to_have_attribute("data-district", stack.district.code)
        assert [e for e in errors if "status of 422" not in e] == [], errors


def _desk_as(page: Page, stack: Stack, principal: Principal) -> None:
    signed_in_as(page, stack.url, stack.settings, principal, "/board/dlq")
    page.wait_for_selector("body[data-ready=true]")


def test_the_dead_letter_desk_per_district(
    stack: Stack, jiulongpo: ReferenceDistrict, chromium: Path, tmp_path: Path
) -> None:
    inside = jiulongpo.buildings[0]
    jlp_code, city_code = "0691", "0692"  # unknown categories: what the rows are found by
    refuse_110(stack, ajlb=jlp_code, zbx=inside.lon, zby=inside.lat)
    refuse_110(stack, ajlb=city_code, zbx=OUTSIDE_BOTH[0], zby=OUTSIDE_BOTH[1])
    with open_page(chromium, tmp_path / "jlp") as (page, errors):
        _desk_as(page, stack, Principal(ApiRole.OPERATOR, "jlp-op", district=JIULONGPO))
        expect(page.locator("#desk")).to_have_text(re.compile("^九龙坡区的异常数据：仅本区的"))
        expect(page.locator("#who")).to_contain_text("九龙坡区")
        expect(page.locator("#filters [name=district]")).to_have_count(0)  # theirs only: nothing to pick
        row = page.locator("#letters tr", has_text=jlp_code)
        expect(row).to_have_count(1)
        expect(row.locator("td.district")).to_have_text("九龙坡区")
        expect(page.locator("#letters tr", has_text=city_code)).to_have_count(0)
        row.locator("td").first.locator("button").click()
        expect(page.locator("#placement .placement-why")).to_have_text("其坐标位于九龙坡区界内")
        expect(page.locator("#placement .placement-why")).to_have_attribute("data-by", "point")
        shot(page, "dlq-district-jiulongpo", full_page=True)
        assert errors == []
    with open_page(chromium, tmp_path / "city") as (page, errors):
        _desk_as(page, stack, Principal(ApiRole.CITY_OPERATOR, "city-op"))
        expect(page.locator("#desk")).to_have_text(re.compile("^城市运行管理中心：各区的异常数据"))
        city_row = page.locator("#letters tr", has_text=city_code)
        expect(city_row.locator("td.district")).to_have_text("城市")
        expect(page.locator("#letters tr", has_text=jlp_code)).to_have_count(1)
        city_row.locator("td").first.locator("button").click()
        expect(page.locator("#placement .placement-why")).to_have_text(
            "其坐标不在任何在用的区界内：仅城市运行管理中心处理"
        )
        shot(page, "dlq-city", full_page=True)
        page.evaluate("localStorage.setItem('yiwang.lang', 'en')")  # the same letter in English
        page.reload()
        page.wait_for_selector("body[data-ready=true]")
        page.locator("#letters tr", has_text=city_code).locator("td").first.locator("button").click()
        expect(page.locator("#placement .placement-why")).to_have_text(
            "its point lies outside every district's outline in force: the city's only"
        )
        for picked, shown, hidden in ((JIULONGPO, jlp_code, city_code), ("city", city_code, jlp_code)):
            page.evaluate("document.body.dataset.ready = 'false'")
            page.select_option("#filters [name=district]", picked)
            page.wait_for_selector("body[data-ready=true]")
            expect(page.locator("#letters tr", has_text=shown)).to_have_count(1)
            expect(page.locator("#letters tr", has_text=hidden)).to_have_count(0)
            assert {r.get_attribute("data-district") for r in page.locator("#letters tr[data-id]").all()} == {
                picked
            }
        assert errors == []
