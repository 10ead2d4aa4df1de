"""The phone index and the search box's meanings, without a database."""

from __future__ import annotations

import pytest

from dispatch.search.lookup import SearchError, lookup_of
from dispatch.search.phones import HASH_COLUMN, normal_phone, phone_digest, stamp_reports


@pytest.mark.parametrize(
    ("typed", "normal"),
    [
        ("13812345678", "13812345678"),
        ("+86 138 1234 5678", "13812345678"),
        ("0086-138-1234-5678", "13812345678"),
        ("8613812345678", "13812345678"),
        ("(023) 6531.2345", "02365312345"),
        ("12345", "12345"),
        ("1234", None),  # too short to be anyone's number
        ("1" * 16, None),
        ("１３８１２３４５６７８", None),  # full-width digits are not ASCII: not matched by accident
        ("井盖 138", None),
        ("", None),
        (None, None),
    ],
)
def test_a_phone_is_normalised_to_its_digits(typed: str | None, normal: str | None) -> None:
    assert normal_phone(typed) == normal


def test_the_digest_depends_on_the_key_and_never_holds_the_number() -> None:
    one, other = phone_digest("key-1", "13812345678"), phone_digest("key-2", "13812345678")
    assert one and other and one != other and len(one) == 64
    assert "13812345678" not in one and "5678" not in one
    assert phone_digest("key-1", "+86 138-1234-5678") == one
    assert phone_digest("key-1", None) is None and phone_digest("key-1", "n/a") is None


def test_stamping_sets_the_hash_of_each_report_row_in_place() -> None:
    rows = [
        {"report_id": "a", "reporter": {"name": "张三", "phone": "13812345678"}},
        {"report_id": "b", "reporter": {"anonymous": True}},
        {"report_id": "c", "reporter": None, HASH_COLUMN: "stale"},
    ]
    stamp_reports(rows, "k")
    assert [r[HASH_COLUMN] for r in rows] == [phone_digest("k", "13812345678"), None, None]


@pytest.mark.parametrize(
    ("q", "uuid", "phone", "address"),
    [
        ("110-20261201-0042", False, True, True),  # digits and dashes: a reference, maybe a phone
        ("H-20250601-0001", False, False, True),
        ("4b0c2f0e-6a57-4d4e-9b7a-111111111111", True, False, False),
        ("138 1234 5678", False, True, True),
        ("渝州路", False, False, True),
        ("路", False, False, False),  # one character of address matches half the district
    ],
)
def test_every_meaning_of_the_text_is_tried(q: str, uuid: bool, phone: bool, address: bool) -> None:
    found = lookup_of(q, key="k")
    assert found.reference == q.strip()
    assert (found.uuid is not None, found.phone_hash is not None, found.address is not None) == (
        uuid,
        phone,
        address,
    )


@pytest.mark.parametrize("q", ["", "   ", "x" * 101])
def test_an_empty_or_long_search_is_refused_naming_q(q: str) -> None:
    with pytest.raises(SearchError) as caught:
        lookup_of(q, key="k")
    assert caught.value.field == "q"
