"""Property tests: whatever bytes arrive, an adapter never raises, every record becomes a
report or a rejection whose reason starts with the field it names, the adapter's own
last-resort guard never fires (that would be a bug), and reporter data never reaches a reason."""

from __future__ import annotations

import json
import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from producers.outcome import Companion, Outcome, Rejection
from schemas.cap_record import decode as decode_record
from schemas.report import Report, Source
from tests.producers.helpers import adapt, sample_files

SOURCES = [s.value for s in Source]
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
NASTY = [
    b"NaN",
    b"Infinity",
    b"-1e999",
    b"\xff\xfe",
    b"\xed\xa0\x80",  # a UTF-8-encoded surrogate
    b"\x00",
    b'"',
    b"{",
    b"]",
    b",",
    b"<",
    b"&x;",
    b'<!DOCTYPE a [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>',
    b"<![CDATA[",
    "线索类型：".encode(),
    b"\n----\n",
    b"\r\n",
    "长".encode() * 5000,
    b"9" * 400,
]


def _check(outcomes: list[Outcome], secrets: tuple[str, ...] = ()) -> None:
    for outcome in outcomes:
        assert isinstance(outcome, Report | Rejection | Companion)
        if isinstance(outcome, Companion):  # a CAP life-cycle record: always a valid one
            assert decode_record(outcome.value).sender.encode() == outcome.key
        if isinstance(outcome, Rejection):
            assert outcome.field
            assert outcome.reason.startswith(outcome.field), outcome.reason
            assert "adapter failed" not in outcome.reason, outcome.reason
            assert outcome.raw is not None
            for secret in secrets:
                assert secret not in outcome.reason


@pytest.mark.parametrize("source", SOURCES)
@FUZZ
@given(data=st.binary(max_size=2048))
def test_arbitrary_bytes(source: str, data: bytes) -> None:
    _check(adapt(source, data))


@pytest.mark.parametrize("source", SOURCES)
@FUZZ
@given(
    pick=st.integers(min_value=0),
    cuts=st.lists(
        st.tuples(
            st.integers(min_value=0),
            st.sampled_from(["truncate", "flip", "insert", "delete"]),
            st.sampled_from(NASTY),
        ),
        min_size=1,
        max_size=4,
    ),
)
def test_mutated_samples(source: str, pick: int, cuts: list[tuple[int, str, bytes]]) -> None:
    files = sample_files(source)
    data = bytearray(files[pick % len(files)].read_bytes())
    for position, how, token in cuts:
        at = position % (len(data) + 1)
        if how == "truncate":
            del data[at:]
        elif how == "flip" and at < len(data):
            data[at] ^= 0xFF
        elif how == "insert":
            data[at:at] = token
        elif how == "delete":
            del data[at : at + len(token)]
    _check(adapt(source, bytes(data)))


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=50),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)
SECRET = st.text(alphabet=string.ascii_letters + string.digits, min_size=8, max_size=20).map(
    lambda s: f"秘{s}"
)
"""Personal data in the fuzzed records; the marker keeps an ordinary word ("location") from
counting as a leak when a reason names a field."""
JSON_SHAPES = {
    "police": (
        "incidents",
        ["jjdbh", "bjsj", "ajlb", "jqjb", "bjnr", "afdz", "zbx", "zby", "zbxt"],
        ("bjrxm", "bjrdh"),
    ),
    "hotline": (
        "orders",
        [
            "workOrderNo",
            "acceptTime",
            "appealType",
            "classification",
            "urgency",
            "content",
            "address",
            "longitude",
            "latitude",
            "coordSys",
            "attachments",
        ],
        (),
    ),
    "patrol": (
        "reports",
        [
            "reportNo",
            "reportedAt",
            "eventType",
            "urgent",
            "lng",
            "lat",
            "coordType",
            "accuracy",
            "desc",
            "photos",
        ],
        (),
    ),
}


@pytest.mark.parametrize("source", sorted(JSON_SHAPES))
@FUZZ
@given(data=st.data(), secret=SECRET)
def test_json_records_with_wrong_types(source: str, data: st.DataObject, secret: str) -> None:
    list_key, keys, personal = JSON_SHAPES[source]
    doc = json.loads(
        sample_files(source)[0].read_text("utf-8").splitlines()[0]
        if source == "patrol"
        else sample_files(source)[0].read_text("utf-8")
    )
    record = doc if source == "patrol" else doc[list_key][0]
    for key in data.draw(st.lists(st.sampled_from(keys), max_size=4, unique=True)):
        record[key] = data.draw(JSON_VALUES)
    elsewhere = json.dumps(doc, ensure_ascii=False)  # the secret may only be quoted if it also sits elsewhere
    for key in personal:
        record[key] = secret
    if source == "hotline":
        record["citizen"] = {"name": secret, "phone": secret}
    if source == "patrol":
        record["worker"] = {"id": secret, "name": secret}
    _check(
        adapt(source, json.dumps(doc, ensure_ascii=False).encode()), () if secret in elsewhere else (secret,)
    )


@FUZZ
@given(secret=SECRET, lat=st.floats(allow_nan=True, allow_infinity=True), kind=st.text(max_size=10))
def test_csv_rows_with_odd_values(secret: str, lat: float, kind: str) -> None:
    header = "出警单号,接警时间,灾情类型,纬度,经度,报警人,联系电话\n"
    row = f'F-1,2025-06-01 07:00:00,"{kind.replace(chr(34), "")}",{lat},106.4,{secret},{secret}\n'
    _check(
        adapt("fire", (header + row).encode("utf-8", "surrogatepass")), () if secret in kind else (secret,)
    )


@FUZZ
@given(
    polygon=st.lists(st.tuples(st.floats(allow_nan=True), st.floats(allow_nan=True)), max_size=6),
    radius=st.text(max_size=8),
)
def test_cap_areas_with_odd_geometry(polygon: list[tuple[float, float]], radius: str) -> None:
    pairs = " ".join(f"{a},{b}" for a, b in polygon)
    alert = (
        "<alert xmlns='urn:oasis:names:tc:emergency:cap:1.2'><identifier>X</identifier>"
        "<sent>2025-06-01T07:00:00+08:00</sent>"
        "<status>Actual</status><msgType>Alert</msgType><info><category>Met</category>"
        f"<area><areaDesc>a</areaDesc><polygon>{pairs}</polygon>"
        f"<circle>29.5,106.4 {radius.replace('<', '')}</circle></area></info></alert>"
    )
    _check(adapt("emergency", alert.encode("utf-8", "surrogatepass")))
