"""The authorisation matrix: every kind of caller against every endpoint.

Commands are probed with a transition the case's state refuses (409), so an authorised caller
is told "illegal transition" while nothing changes, and every other caller is stopped before
the lifecycle: 401 (no, expired or forged token), 403 (wrong role or a filter naming another
street or district), 404 (another worker's task, another street's or district's case, another
agency's report).

Two districts: a 九龙坡 (500107) operator never gets a 沙坪坝 (500106) case, and no 沙坪坝 operator a
九龙坡 one, from any list, search, export, panel or live feed; the city operator
(城市运行管理中心) answers as a district operator does, over both.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import jwt
import pytest
from fastapi.testclient import TestClient

from dispatch.api.auth import ApiRole, Principal
from tests.dispatch.api.conftest import (
    JIULONGPO,
    STREET_A,
    STREET_B,
    Case,
    Crew,
    Notices,
    Scoped,
    Tokens,
    World,
)

pytestmark = [pytest.mark.db, pytest.mark.kafka]

CALLERS = (
    "worker_a",  # holds a1's task
    "worker_b",  # holds b1's task (not a1's)
    "op_district",
    "op_a",  # street A only
    "op_b",  # street B only
    "op_jlp",  # district 九龙坡 (500107): j1's
    "city",  # the city operator: every district
    "agency_hotline",  # reported a1
    "agency_police",  # reported b1, not a1
    "volunteer_a",  # a volunteer of a1's community
    "volunteer_b",  # a volunteer of b1's community
    "partner",  # a partner of the catalogue
    "desk_a",  # the community lead of a1's community
    "desk_b",  # the community lead of b1's community
    "none",
    "expired",
    "forged",
    "garbage",
)


def headers(caller: str, world: World, tokens: Tokens, crew: Crew, world_notices: Notices) -> dict[str, str]:
    table = {
        "volunteer_a": lambda: tokens.volunteer(crew.a, crew.a_community),
        "volunteer_b": lambda: tokens.volunteer(crew.b, crew.b_community),
        "partner": lambda: tokens.partner("p-grocer"),
        "worker_a": lambda: tokens.worker(world.a1.assignee),
        "worker_b": lambda: tokens.worker(world.b1.assignee),
        "op_district": lambda: tokens.operator(None),
        "op_a": lambda: tokens.operator(STREET_A),
        "op_b": lambda: tokens.operator(STREET_B),
        "op_jlp": lambda: tokens.operator(district=JIULONGPO),
        "city": tokens.city,
        "agency_hotline": lambda: tokens.agency("hotline"),
        "agency_police": lambda: tokens.agency("police"),
        "desk_a": lambda: tokens.desk(world_notices.desk_a),
        "desk_b": lambda: tokens.desk(world_notices.desk_b),
        "none": dict,
        "expired": lambda: tokens.expired(Principal(ApiRole.OPERATOR, "op-district", district="500106")),
        "forged": lambda: tokens.forged(Principal(ApiRole.OPERATOR, "op-district", district="500106")),
        "garbage": lambda: {"Authorization": "Bearer not.a.token"},
    }
    result: dict[str, str] = table[caller]()
    return result


NO_LETTER = "00000000-0000-5000-8000-000000000000"
WORKER = {"worker_a": 200, "worker_b": 200}
ANSWER = {"what": "马上处理", "by": (datetime.now(UTC) + timedelta(days=1)).isoformat()}
OPS = {"op_district": 200, "op_a": 200, "op_b": 200, "op_jlp": 200, "city": 200}
VOLUNTEERS = {"volunteer_a": 200, "volunteer_b": 200}
OPS_404 = {"op_district": 404, "op_a": 404, "op_b": 404, "op_jlp": 404, "city": 404}
UNAUTH = {"none": 401, "expired": 401, "forged": 401, "garbage": 401}


def expect(**specific: int) -> dict[str, int]:
    """403 for every authenticated caller not named, 401 for the unauthenticated ones; the city
    operator and the 九龙坡 operator answer as the 沙坪坝 district operator unless named (a 沙坪坝
    case is 404 to the 九龙坡 operator, a 沙坪坝 area in a filter 403)."""
    out = dict.fromkeys(CALLERS, 403)
    out.update(UNAUTH)
    if "op_district" in specific:
        out["city"] = out["op_jlp"] = specific["op_district"]
    out.update(specific)
    return out


# (method, path template, json body, expected status by caller)
ENDPOINTS: list[tuple[str, str, dict[str, Any] | None, dict[str, int]]] = [
    ("GET", "/auth/me", None, {**dict.fromkeys(CALLERS, 200), **UNAUTH}),
    ("GET", "/worker/tasks", None, expect(**WORKER)),
    ("GET", "/worker/tasks/{a1_task}", None, expect(worker_a=200, worker_b=404)),
    ("POST", "/worker/tasks/{a1_task}/arrive", None, expect(worker_a=409, worker_b=404)),
    ("POST", "/worker/tasks/{a1_task}/resolve", {"note": "x"}, expect(worker_a=409, worker_b=404)),
    ("GET", "/incidents", None, expect(**OPS)),
    ("GET", "/incidents?street=" + STREET_B, None, expect(op_district=200, op_a=403, op_b=200, op_jlp=403)),
    (
        "GET",
        "/incidents?grid={j1_grid}",
        None,
        expect(op_district=403, op_a=403, op_b=403, op_jlp=200, city=200),
    ),
    ("GET", "/incidents/{a1}", None, expect(op_district=200, op_a=200, op_b=404, op_jlp=404)),
    ("GET", "/incidents/{b1}", None, expect(op_district=200, op_a=404, op_b=200, op_jlp=404)),
    ("GET", "/incidents/{j1}", None, expect(op_district=404, op_a=404, op_b=404, op_jlp=200, city=200)),
    ("POST", "/incidents/{a1}/verify", None, expect(op_district=409, op_a=409, op_b=404, op_jlp=404)),
    ("POST", "/incidents/{b1}/close", None, expect(op_district=409, op_a=404, op_b=409, op_jlp=404)),
    (
        "POST",
        "/incidents/{j1}/close",
        None,
        expect(op_district=404, op_a=404, op_b=404, op_jlp=409, city=409),
    ),
    ("POST", "/incidents/{a1}/unpark", None, expect(op_district=409, op_a=409, op_b=404, op_jlp=404)),
    # 立案 of a case past triage is refused; 作废 without a reason names it (nothing changes)
    ("POST", "/incidents/{a1}/register", None, expect(op_district=409, op_a=409, op_b=404, op_jlp=404)),
    ("POST", "/incidents/{b1}/void", None, expect(op_district=422, op_a=404, op_b=422, op_jlp=404)),
    # split, probed with the report that opened a1 (never splittable): 422 naming report_id
    (
        "POST",
        "/incidents/{a1}/split",
        {"report_id": "{a1_report}", "reason": "probe"},
        expect(op_district=422, op_a=422, op_b=404, op_jlp=404),
    ),
    ("GET", "/tasks", None, expect(**OPS)),
    ("GET", "/tasks?street=" + STREET_A, None, expect(op_district=200, op_a=200, op_b=403, op_jlp=403)),
    ("GET", "/map", None, expect(**OPS)),
    ("GET", "/map?grids=false", None, expect(**OPS)),
    ("GET", "/map/points?id={a1}", None, expect(**OPS)),
    ("GET", "/queues", None, expect(**OPS)),
    ("GET", "/queues?street=" + STREET_B, None, expect(op_district=200, op_a=403, op_b=200, op_jlp=403)),
    ("GET", "/queues?community=500106001001", None, expect(op_district=200, op_a=200, op_b=403, op_jlp=403)),
    ("GET", "/incidents?queue=overdue", None, expect(**OPS)),
    ("GET", "/incidents/{a1}/candidates", None, expect(op_district=200, op_a=200, op_b=404, op_jlp=404)),
    (
        "GET",
        "/incidents/{j1}/candidates",
        None,
        expect(op_district=404, op_a=404, op_b=404, op_jlp=200, city=200),
    ),
    (
        "GET",
        "/incidents/{a1}/merge-suggestions",
        None,
        expect(op_district=200, op_a=200, op_b=404, op_jlp=404),
    ),
    (
        "POST",
        "/incidents/{a1}/reports/{a1_report}/reveal",
        None,
        expect(op_district=200, op_a=200, op_b=404, op_jlp=404),
    ),
    (
        "POST",
        "/incidents/{j1}/reports/{j1_report}/reveal",
        None,
        expect(op_district=404, op_a=404, op_b=404, op_jlp=200, city=200),
    ),
    ("POST", "/incidents/{b1}/reports/{a1_report}/reveal", None, expect(op_district=404, op_a=404, op_b=404)),
    ("GET", "/reveals", None, expect(**OPS)),
    ("GET", "/kpi", None, expect(**OPS)),
    # search: every operator may search; another street's case is simply not found (see below)
    ("GET", "/search?q={a1_ref}", None, expect(**OPS)),
    ("GET", "/export/incidents?format=csv", None, expect(**OPS)),
    (
        "GET",
        "/export/incidents?street=" + STREET_B,
        None,
        expect(op_district=200, op_a=403, op_b=200, op_jlp=403),
    ),
    ("GET", "/export/kpi?format=csv", None, expect(**OPS)),
    ("GET", "/agency/reports/{a1_report}", None, expect(agency_hotline=200, agency_police=404)),
    ("GET", "/agency/reports?source_ref={a1_ref}", None, expect(agency_hotline=200, agency_police=200)),
    # people and dead letters: district operators only (on-duty: operators, in their street)
    ("POST", "/people/import?check=true", None, expect(op_district=422)),  # no file: refused, unchanged
    ("GET", "/people/export?format=csv&scope=500106001001", None, expect(op_district=200, op_jlp=403)),
    ("POST", "/people/nobody-here/reset-pin", None, expect(op_district=404)),
    ("GET", "/people/exceptions", None, expect(op_district=200)),
    (
        "POST",
        "/people/exceptions",
        {"kind": "leave", "worker_id": "nobody-here", "first_day": "2026-11-25"},
        expect(op_district=422),
    ),
    ("DELETE", "/people/exceptions/987654321", None, expect(op_district=404)),
    (
        "GET",
        "/people/on-duty?grid=500106001001001",
        None,
        expect(op_district=200, op_a=200, op_b=403, op_jlp=403),
    ),
    ("GET", "/dlq", None, expect(op_district=200)),
    ("GET", "/dlq/counts", None, expect(op_district=200)),
    ("GET", "/dlq?district=city", None, expect(op_district=200)),  # the city's filter: within the scope
    ("GET", f"/dlq/{NO_LETTER}", None, expect(op_district=404)),
    ("POST", f"/dlq/{NO_LETTER}/replay", {}, expect(op_district=404)),
    ("POST", f"/dlq/{NO_LETTER}/discard", {"reason": "a probe"}, expect(op_district=404)),
    # district against district: a 沙坪坝 letter, person or surge is not 九龙坡's operator's (404, or
    # 422 naming the person as unknown; a 沙坪坝 area in a surge 403); a letter no district holds
    # is the city's only
    ("GET", "/dlq/{sb_letter}", None, expect(op_district=200, op_jlp=404)),
    ("GET", "/dlq/{city_letter}", None, expect(op_district=404, city=200)),
    ("POST", "/dlq/{sb_letter}/discard", {"reason": "a probe"}, expect(op_district=200, op_jlp=404)),
    ("POST", "/people/{sb_worker}/reset-pin", None, expect(op_district=200, op_jlp=404)),
    (
        "POST",
        "/people/exceptions",
        {"kind": "leave", "worker_id": "{sb_worker}", "first_day": "2020-01-06"},
        expect(op_district=201, op_jlp=422),
    ),
    (
        "POST",
        "/surges",  # a past end: refused after the area's district is checked
        {
            "warning": "暴雨",
            "level": "红色",
            "area": {"geocodes": [STREET_B]},
            "until": "2020-01-01T00:00:00Z",
        },
        expect(op_district=422, op_jlp=403),
    ),
    ("POST", "/surges/{sb_surge}/end", None, expect(op_district=200, op_jlp=404)),
    # volunteers: a1 (P1) is never offered, so a claim or a resolution finds no task
    ("GET", "/volunteer/me", None, expect(**VOLUNTEERS)),
    ("GET", "/volunteer/tasks", None, expect(**VOLUNTEERS)),
    ("POST", "/volunteer/tasks/{a1}/claim", None, expect(volunteer_a=404, volunteer_b=404)),
    (
        "POST",
        "/volunteer/tasks/{a1}/resolve",
        {"note": "x", "photos": ["k"]},
        expect(volunteer_a=404, volunteer_b=404),
    ),
    ("GET", "/volunteer/statement", None, expect(**VOLUNTEERS)),
    ("GET", "/volunteer/leaderboard", None, expect(**VOLUNTEERS)),
    ("GET", "/volunteer/catalogue", None, expect(**VOLUNTEERS)),
    ("POST", "/volunteer/redemptions", {"item_id": "no-such"}, expect(volunteer_a=404, volunteer_b=404)),
    ("GET", "/volunteer/redemptions", None, expect(**VOLUNTEERS)),
    ("POST", "/worker/volunteer-tasks/{a1_task}", None, expect(worker_a=409, worker_b=404)),
    ("POST", "/worker/volunteer-tasks/{a1_task}/check", {"passed": True}, expect(worker_a=409, worker_b=404)),
    ("GET", "/volunteers", None, expect(**OPS)),
    (
        "GET",
        "/volunteers?community={b_community}",
        None,
        expect(op_district=200, op_a=404, op_b=200, op_jlp=404),
    ),
    (
        "POST",
        "/volunteers/{vol_b}/status",
        {"status": "active"},
        expect(op_district=200, op_a=404, op_b=200, op_jlp=404),
    ),
    ("GET", "/volunteers/leaderboard", None, expect(**OPS)),
    (
        "POST",
        "/points/reversals",
        {"cause": "no-such", "note": "x"},
        expect(op_district=404, op_a=404, op_b=404),
    ),
    ("GET", "/catalogue", None, expect(**OPS)),
    ("GET", "/photos/photos/2026/01/{no_photo}.jpg", None, expect(worker_a=404, worker_b=404, **OPS_404)),
    ("GET", "/partner/redemptions", None, expect(partner=200)),
    ("POST", "/partner/redemptions/{no_uuid}/fulfil", None, expect(partner=404)),
    ("PUT", "/worker/position", {"lon": 106.45, "lat": 29.56}, expect(worker_a=204, worker_b=204)),
    ("DELETE", "/worker/position", None, expect(worker_a=204, worker_b=204)),
    ("GET", "/worker/tasks/{a1_task}/detail", None, expect(worker_a=200, worker_b=404)),
    ("GET", "/notices", None, expect(desk_a=200, desk_b=200)),
    ("POST", "/notices/{a1_sent}/answer", ANSWER, expect(desk_a=409, desk_b=404)),
    ("POST", "/notices/{a1_received}/receive", None, expect(desk_a=409, desk_b=404)),
    ("POST", "/notices/{b1_received}/receive", None, expect(desk_a=404, desk_b=409)),
    ("GET", "/incidents/{a1}/notices", None, expect(op_district=200, op_a=200, op_b=404, op_jlp=404)),
    ("GET", "/notices/kpi", None, expect(**OPS)),
    # residents: anonymous; the tracking code is the key (a code nobody holds is 404 to everyone)
    ("GET", "/r/categories", None, dict.fromkeys(CALLERS, 200)),
    ("POST", "/r/photos", None, dict.fromkeys(CALLERS, 422)),  # no device id, no photo: a token adds nothing
    ("GET", "/r/reports/R-22222222-222222", None, dict.fromkeys(CALLERS, 404)),
    ("POST", "/r/reports/R-22222222-222222/rating", {"answer": "satisfied"}, dict.fromkeys(CALLERS, 404)),
    ("GET", "/r/reasons", None, dict.fromkeys(CALLERS, 200)),
    ("GET", "/r/districts", None, dict.fromkeys(CALLERS, 200)),
    (
        "GET",
        "/r/place?lon=106.5&lat=29.5",
        None,
        dict.fromkeys(CALLERS, 422),
    ),  # no device id: a token adds nothing
    # an agency's return-visit reply: a1 is not closed (no visit to answer), and not the police's
    (
        "POST",
        "/agency/replies",
        {"source_ref": "{a1_report}", "answer": "满意"},
        expect(agency_hotline=404, agency_police=404),
    ),
    # surges: every operator sees them; district operators declare (probed with no area: 422) and end
    ("GET", "/surges", None, expect(**OPS)),
    ("GET", "/surges/policies", None, expect(**OPS)),
    ("POST", "/surges", {"warning": "暴雨", "level": "红色", "area": {}}, expect(op_district=422)),
    # picked on the board (division codes) instead of drawn: still the district's alone (a bad code: 422)
    (
        "POST",
        "/surges",
        {"warning": "暴雨", "level": "红色", "area": {"geocodes": ["999"]}},
        expect(op_district=422),
    ),
    ("POST", "/surges/{no_uuid}/end", None, expect(op_district=404)),
    ("GET", "/forecast", None, expect(**OPS)),
]


def _grid_of(client: TestClient, tokens: Tokens, case: Case) -> str:
    grid: str = client.get(f"/incidents/{case.incident_id}", headers=tokens.city()).json()["incident"][
        "grid_code"
    ]
    return grid


@pytest.mark.parametrize(
    ("method", "path", "body", "expected"), ENDPOINTS, ids=[f"{m} {p}" for m, p, _, _ in ENDPOINTS]
)
def test_every_caller_against_every_endpoint(
    *,
    client: TestClient,
    world: World,
    tokens: Tokens,
    crew: Crew,
    world_notices: Notices,
    scoped: Scoped,
    method: str,
    path: str,
    body: dict[str, Any] | None,
    expected: dict[str, int],
) -> None:
    url = path.format(
        a1=world.a1.incident_id,
        b1=world.b1.incident_id,
        j1=world.j1.incident_id,
        j1_report=world.j1.report.report_id,
        j1_grid=_grid_of(client, tokens, world.j1) if "{j1_grid}" in path else "",
        a1_task=world.a1.task_id,
        a1_report=world.a1.report.report_id,
        a1_ref=world.a1.report.source_ref,
        b_community=crew.b_community,
        vol_b=crew.b,
        no_uuid="00000000-0000-4000-8000-000000000000",
        no_photo="0" * 32,
        a1_sent=quote(world_notices.a1_sent),
        a1_received=quote(world_notices.a1_received),
        b1_received=quote(world_notices.b1_received),
        sb_letter=scoped.sb_letter,
        city_letter=scoped.city_letter,
        sb_worker=scoped.sb_worker,
        sb_surge=scoped.sb_surge,
    )
    if body is not None:
        body = {
            k: v.format(a1_report=world.a1.report.report_id, sb_worker=scoped.sb_worker)
            if isinstance(v, str)
            else v
            for k, v in body.items()
        }
    got = {}
    for caller in CALLERS:
        response = client.request(
            method, url, json=body, headers=headers(caller, world, tokens, crew, world_notices)
        )
        got[caller] = response.status_code
        if response.status_code == 409:
            refusal = response.json()
            assert "detail" in refusal, refusal
            if path.startswith(("/incidents", "/worker/tasks")):
                assert {"state", "action", "role"} <= set(refusal), refusal
        if response.status_code == 404:
            assert world.b1.incident_id not in response.text and STREET_B not in response.text
            assert world.j1.incident_id not in response.text and JIULONGPO not in response.text
    assert got == expected
    # nothing the probes did changed a case
    state = client.get(f"/incidents/{world.a1.incident_id}", headers=tokens.operator()).json()["incident"]
    assert state["state"] == "dispatched" and state["revision"] == 1


def test_lists_hold_only_the_callers_scope(client: TestClient, world: World, tokens: Tokens) -> None:
    for street, mine, theirs in ((STREET_A, world.a1, world.b1), (STREET_B, world.b1, world.a1)):
        op = tokens.operator(street)
        incidents = client.get("/incidents?limit=200", headers=op).json()["items"]
        assert {i["street_code"] for i in incidents} == {street}
        assert mine.incident_id in {i["incident_id"] for i in incidents}
        assert theirs.incident_id not in {i["incident_id"] for i in incidents}
        tasks = client.get("/tasks?limit=200", headers=op).json()["items"]
        assert tasks and {t["street_code"] for t in tasks} == {street}
        features = client.get("/map", headers=op).json()["features"]
        assert features and all(
            f["properties"]["grid_code"].startswith(street) for f in features if f["properties"]["grid_code"]
        )
        kpi = client.get("/kpi?group=grid", headers=op).json()["items"]
        assert all(row["key"].startswith(street) for row in kpi)
        both = f"/map/points?id={mine.incident_id}&id={theirs.incident_id}"
        points = client.get(both, headers=op).json()["features"]
        assert [p["id"] for p in points] == [mine.incident_id]
        queues = client.get("/queues", headers=op).json()
        assert queues["new"] == client.get("/incidents?queue=new", headers=op).json()["total"] >= 1
    district = client.get("/incidents?limit=200", headers=tokens.operator()).json()["items"]
    assert {world.a1.incident_id, world.b1.incident_id} <= {i["incident_id"] for i in district}
    mine = client.get("/worker/tasks", headers=tokens.worker(world.b1.assignee)).json()["items"]
    assert mine and {t["assignee_id"] for t in mine} == {world.b1.assignee}
    assert world.a1.task_id not in {t["task_id"] for t in mine}
    for op, expected in (
        (tokens.operator(STREET_A), [world.a1.incident_id]),
        (tokens.operator(STREET_B), []),
    ):
        found = client.get("/search", params={"q": world.a1.report.source_ref}, headers=op).json()["items"]
        assert [i["incident_id"] for i in found] == expected
    police = client.get(
        f"/agency/reports?source_ref={world.a1.report.source_ref}", headers=tokens.agency("police")
    )
    assert police.json()["items"] == []


def test_a_district_operator_never_gets_another_districts_case(
    client: TestClient, world: World, tokens: Tokens
) -> None:
    """From every list, search, export and panel: 九龙坡's operator sees j1 and nothing of 沙坪坝,
    沙坪坝's never j1, the city operator both."""
    shapingba = {world.a1.incident_id, world.b1.incident_id}
    for op, mine, theirs in (
        (tokens.operator(district=JIULONGPO), {world.j1.incident_id}, shapingba),
        (tokens.operator(), shapingba, {world.j1.incident_id}),
    ):
        incidents = client.get("/incidents?limit=200", headers=op).json()["items"]
        assert mine <= {i["incident_id"] for i in incidents}
        assert not theirs & {i["incident_id"] for i in incidents}
        tasks = {t["incident_id"] for t in client.get("/tasks?limit=200", headers=op).json()["items"]}
        assert mine <= tasks and not theirs & tasks
        points = {f["id"] for f in client.get("/map", headers=op).json()["features"]}
        assert mine <= points and not theirs & points
        asked = "&".join(f"id={i}" for i in sorted(mine | theirs))
        named = {f["id"] for f in client.get(f"/map/points?{asked}", headers=op).json()["features"]}
        assert named == mine
        exported = client.get("/export/incidents?format=csv", headers=op).text
        assert all(i in exported for i in mine) and not any(i in exported for i in theirs)
        for case in (world.a1, world.b1, world.j1):
            found = client.get("/search", params={"q": case.report.source_ref}, headers=op).json()["items"]
            assert [i["incident_id"] for i in found] == (
                [case.incident_id] if case.incident_id in mine else []
            )
        for iid in theirs:
            assert client.get(f"/incidents/{iid}", headers=op).status_code == 404
            assert client.get(f"/incidents/{iid}/candidates", headers=op).status_code == 404
            assert client.get(f"/incidents/{iid}/notices", headers=op).status_code == 404
    jlp_kpi = client.get("/kpi?group=grid", headers=tokens.operator(district=JIULONGPO)).json()["items"]
    # a case at the district's centre (tests/dispatch/api/test_district_scope.py) has no grid
    assert all(row["key"] is None or row["key"].startswith(JIULONGPO) for row in jlp_kpi)
    city = client.get("/incidents?limit=200", headers=tokens.city()).json()["items"]
    assert shapingba | {world.j1.incident_id} <= {i["incident_id"] for i in city}
    assert {i["street_code"][:6] for i in city if i["street_code"]} == {"500106", JIULONGPO}
    queues = client.get("/queues", headers=tokens.city()).json()
    assert queues["new"] == client.get("/incidents?queue=new", headers=tokens.city()).json()["total"]


def test_operator_tokens_name_their_district(client: TestClient, tokens: Tokens) -> None:
    """A token of an operator with no district, or a street outside it, is refused (401); the
    city operator's names none; logins carry the district from config/accounts.toml."""
    from_file = client.post("/auth/login", json={"username": "jiulongpo", "password": "jiulongpo-dev"}).json()
    assert (from_file["role"], from_file["district"]) == ("operator", JIULONGPO)
    city = client.post("/auth/login", json={"username": "city", "password": "city-dev"}).json()
    me = client.get("/auth/me", headers={"Authorization": f"Bearer {city['access_token']}"}).json()
    assert me == {"sub": "city", "role": "city_operator"}
    forged = {"sub": "op-x", "role": "operator", "iss": "yiwang"}
    for claims in (forged, {**forged, "district": JIULONGPO, "street": STREET_A}):
        token = jwt.encode(
            {**claims, "iat": datetime.now(UTC), "exp": datetime.now(UTC) + timedelta(minutes=5)},
            tokens.settings.jwt_secret,
            algorithm="HS256",
        )
        answer = client.get("/incidents", headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 401 and "district" in answer.json()["detail"]


def test_a_desk_sees_only_its_own_notices(
    client: TestClient, world: World, tokens: Tokens, world_notices: Notices
) -> None:
    for desk, mine, theirs in (
        (world_notices.desk_a, world.a1, world.b1),
        (world_notices.desk_b, world.b1, world.a1),
    ):
        inbox = client.get("/notices", headers=tokens.desk(desk)).json()
        assert inbox["desk"] == desk and inbox["items"]
        assert {n["desk"] for n in inbox["items"]} == {desk}
        assert {n["incident_id"] for n in inbox["items"]} == {mine.incident_id}
        assert theirs.incident_id not in str(inbox)
    panel = client.get(f"/incidents/{world.a1.incident_id}/notices", headers=tokens.operator(STREET_A)).json()
    assert "sent" in {n["state"] for n in panel["items"]}


def test_login_issues_tokens_for_people(client: TestClient) -> None:
    ok = client.post("/auth/login", json={"username": "xiaolongkan", "password": "xiaolongkan-dev"})
    assert ok.status_code == 200 and ok.json()["street"] == STREET_A
    me = client.get("/auth/me", headers={"Authorization": f"Bearer {ok.json()['access_token']}"})
    assert me.json() == {"sub": "xiaolongkan", "role": "operator", "street": STREET_A, "district": "500106"}
    assert (
        client.post("/auth/login", json={"username": "xiaolongkan", "password": "wrong"}).status_code == 401
    )
    assert client.post("/auth/login", json={"username": "nobody", "password": "x"}).status_code == 401
    worker = client.post("/auth/login", json={"worker_id": "500106001001001-grid_worker-1", "pin": "1234"})
    assert worker.status_code == 200 and worker.json()["role"] == "grid_worker"
    assert (
        client.post(
            "/auth/login", json={"worker_id": "500106001001001-grid_worker-1", "pin": "0000"}
        ).status_code
        == 401
    )
    desk = client.post("/auth/login", json={"username": "lead001", "password": "lead001-dev"})
    assert desk.status_code == 200 and desk.json()["desk"] == "community_lead:500106001001"
    assert desk.json()["role"] == "desk"
    assert client.post("/auth/login", json={"username": "lead001", "password": "wrong"}).status_code == 401


def test_openapi_lists_the_endpoints(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert {
        "/worker/tasks",
        "/incidents",
        "/incidents/{incident_id}/{action}",
        "/map",
        "/kpi",
        "/auth/login",
    } <= set(paths)
