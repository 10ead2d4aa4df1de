"""The ledger's invariants as properties: entries sum to the balance, it is never negative,
replaying a cause changes nothing, a reversal is an entry; statements and leaderboards."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dispatch.volunteers.errors import FieldError, Refused
from dispatch.volunteers.ledger import (
    Balance,
    Entry,
    EntryKind,
    earned,
    leaderboard,
    post,
    reversal_of,
    statement,
)
from tests.dispatch.helpers import sh

T0 = sh(2025, 3, 3, 10)

# an operation: (what, cause number, amount); causes repeat often, so replays are exercised
ops = st.lists(
    st.tuples(
        st.sampled_from(["earn", "bonus", "redeem", "reverse"]),
        st.integers(0, 12),
        st.integers(1, 60),
    ),
    max_size=60,
)


def _entry(balance: Balance, what: str, n: int, amount: int, i: int) -> Entry | None:
    at = T0 + timedelta(minutes=i)
    if what == "reverse":
        target = balance.entry(f"earn:{n}") or balance.entry(f"redeem:{n}")
        return None if target is None else reversal_of(target, at=at, note="correction")
    kind = EntryKind(what)
    sign = -1 if kind is EntryKind.REDEEM else 1
    return Entry("v-1", f"{what}:{n}", kind, sign * amount, at)


@settings(max_examples=300, deadline=None)
@given(ops)
def test_entries_sum_to_a_balance_that_is_never_negative(steps: list[tuple[str, int, int]]) -> None:
    balance = Balance("v-1")
    for i, (what, n, amount) in enumerate(steps):
        entry = _entry(balance, what, n, amount, i)
        if entry is None:
            continue
        before = balance
        try:
            balance, fresh = post(balance, entry)
        except Refused:
            assert before.points + entry.points < 0 or entry.kind is EntryKind.REVERSAL
            assert balance == before
            continue
        if not fresh:
            assert balance == before  # the cause was posted: nothing changes
        assert balance.points == sum(e.points for e in balance.entries)
        assert balance.points >= 0
        assert len({e.cause for e in balance.entries}) == len(balance.entries)
    # replaying every posted entry (a retried verification, a redelivered redemption) changes nothing
    replayed = balance
    for entry in balance.entries:
        replayed, fresh = post(replayed, entry)
        assert not fresh
    assert replayed == balance
    lines = statement(balance.entries)
    assert [line.balance for line in lines][-1:] == ([balance.points] if lines else [])
    assert all(line.balance >= 0 for line in lines)
    assert earned(balance.entries) >= 0


def test_a_reversal_is_an_entry_posted_once_and_never_below_zero() -> None:
    balance, _ = post(Balance("v-1"), Entry("v-1", "earn:a", EntryKind.EARN, 10, T0))
    back = reversal_of(balance.entry("earn:a"), at=T0, note="wrong volunteer")  # type: ignore[arg-type]
    after, fresh = post(balance, back)
    assert (after.points, fresh, len(after.entries)) == (0, True, 2)
    assert post(after, back) == (after, False)
    with pytest.raises(Refused, match="not reversed"):
        post(after, reversal_of(back, at=T0, note="x"))
    spent, _ = post(balance, Entry("v-1", "redeem:r", EntryKind.REDEEM, -8, T0))
    with pytest.raises(Refused, match="10 points asked, 2 available"):
        post(spent, back)  # points already spent are not taken back


@pytest.mark.parametrize(
    ("entry", "field"),
    [
        (Entry("v-2", "earn:a", EntryKind.EARN, 5, T0), "volunteer_id"),
        (Entry("v-1", "", EntryKind.EARN, 5, T0), "cause"),
        (Entry("v-1", "earn:a", EntryKind.EARN, 0, T0), "points"),
        (Entry("v-1", "earn:a", EntryKind.EARN, -5, T0), "points"),
        (Entry("v-1", "redeem:a", EntryKind.REDEEM, 5, T0), "points"),
        (Entry("v-1", "earn:a", EntryKind.EARN, 5, T0, reverses="x"), "reverses"),
        (Entry("v-1", "reversal:x", EntryKind.REVERSAL, -5, T0, reverses="x"), "reverses"),
    ],
)
def test_a_malformed_entry_is_refused_naming_the_field(entry: Entry, field: str) -> None:
    with pytest.raises(FieldError) as info:
        post(Balance("v-1"), entry)
    assert info.value.field == field


def test_leaderboard_counts_work_in_the_local_year_and_shares_ranks() -> None:
    new_year = sh(2026, 1, 1, 0, 30)  # 2025-12-31 16:30 UTC: already 2026 in Shanghai
    entries = [
        Entry("v-1", "earn:1", EntryKind.EARN, 10, T0),
        Entry("v-1", "bonus:1", EntryKind.BONUS, 5, T0),
        Entry("v-1", "redeem:1", EntryKind.REDEEM, -15, T0),  # spending does not lower the standing
        Entry("v-2", "earn:2", EntryKind.EARN, 15, T0),
        Entry("v-3", "earn:3", EntryKind.EARN, 20, T0),
        Entry("v-3", "reversal:earn:3", EntryKind.REVERSAL, -20, T0, reverses="earn:3"),
        Entry("v-4", "earn:4", EntryKind.EARN, 40, new_year),
    ]
    board = [(s.volunteer_id, s.points, s.rank) for s in leaderboard(entries, year=2025)]
    assert board == [("v-1", 15, 1), ("v-2", 15, 1), ("v-3", 0, 3)]
    assert [s.volunteer_id for s in leaderboard(entries, year=2026)] == ["v-4"]
